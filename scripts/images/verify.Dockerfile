# The `tierwall verify` image from programs on this machine: scripts/verify-image.sh (make
# verify-image) prepares the context (rootfs/: tierwall-verify, the enforcers, kube-apiserver,
# etcd, scripts/apiserver.sh, this machine's ip, iptables, ipset, nft, bash, openssl, curl ...
# with their libraries, and a static busybox) and builds this file. Nothing is pulled, so it
# builds offline. Run it with --privileged: the sandbox makes network namespaces and iptables
# rules (inside the container's own network namespace; the host's network is not touched).
#
#   podman run --rm --privileged -v "$PWD:/work:ro" tierwall-verify:dev /work/rendered.yaml
#   ... | podman run --rm -i --privileged tierwall-verify:dev -
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    KUBE_ROUTER=/usr/local/bin/kube-router \
    KUBE_NETWORK_POLICIES=/usr/local/bin/kube-network-policies \
    KUBE_APISERVER=/usr/local/bin/kube-apiserver \
    ETCD=/usr/local/bin/etcd \
    TIERWALL_BIN_DIR=/usr/local/bin
# root: network namespaces, iptables and ipset need it (and --privileged).
USER 0:0
# Mount the manifests here (-v "$PWD:/work:ro"): relative paths then work as on the host.
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/tierwall-verify", "verify", "--apiserver-script=/opt/tierwall/scripts/apiserver.sh"]
ARG VERSION=
ARG REVISION=
ARG CREATED=
LABEL org.opencontainers.image.title="tierwall-verify" \
      org.opencontainers.image.description="tierwall verify: rendered manifests enforced by real NetworkPolicy enforcers (kube-router, kube-network-policies) with kube-apiserver and etcd, compared with tierwall report" \
      org.opencontainers.image.source="https://github.com/tierwall/tierwall" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
