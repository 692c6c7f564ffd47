# tierwall's KRM function image, built from source:
#   docker build -t tierwall:dev --build-arg VERSION=v1.2.3 --build-arg REVISION=0123abc .
#   docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/tierwall:v1.2.3 --push .
# A static binary FROM scratch, running as nobody (65534) with no shell, needing no network
# and writing nothing outside /tmp. The Go stage runs on the build machine and cross-compiles
# for each target platform (no emulation). scripts/image.sh builds the same image offline
# from Dockerfile.local.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
# Dependencies first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The build context has no .git: pass VERSION and REVISION; without, the binary says 0.0.0-dev.
ARG VERSION=
ARG REVISION=
ARG TARGETOS=linux
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath \
      -ldflags "-s -w -X github.com/tierwall/tierwall/pkg/version.Version=${VERSION} -X github.com/tierwall/tierwall/pkg/version.Commit=${REVISION}" \
      -o /rootfs/tierwall ./fn/tierwall \
 && mkdir -p /rootfs/etc /rootfs/tmp && chmod 1777 /rootfs/tmp \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > /rootfs/etc/passwd \
 && printf 'root:x:0:\nnobody:x:65534:\n' > /rootfs/etc/group

FROM scratch
COPY --from=build /rootfs/ /
# nobody: kustomize runs container functions with --user nobody.
USER 65534:65534
WORKDIR /tmp
ENTRYPOINT ["/tierwall"]
ARG VERSION=
ARG REVISION=
ARG CREATED=
LABEL org.opencontainers.image.title="tierwall" \
      org.opencontainers.image.description="tierwall KRM function: zero-trust NetworkPolicies for rendered Kubernetes manifests" \
      org.opencontainers.image.source="https://github.com/tierwall/tierwall" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
