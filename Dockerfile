# tierwall's KRM function image, built from source:
#   docker build -t tierwall:dev .
# A static binary FROM scratch, running as nobody (65534) with no shell, needing
# no network and writing nothing outside /tmp. scripts/image.sh builds the same
# image offline from Dockerfile.local.
FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The build context has no .git: pass them (--build-arg VERSION=v1.2.3 --build-arg
# COMMIT=0123abc); without, the binary says 0.0.0-dev.
ARG VERSION=
ARG COMMIT=
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/tierwall/tierwall/pkg/version.Version=${VERSION} -X github.com/tierwall/tierwall/pkg/version.Commit=${COMMIT}" \
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
