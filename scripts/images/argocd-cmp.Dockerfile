# tierwall's Argo CD Config Management Plugin sidecar (examples/argocd/cmp, docs/pipelines.md
# "Argo CD, recipe B"): everything the plugin runs, nothing fetched at start.
#
#   /usr/local/bin/tierwall-postrender, helm (3), kustomize    static
#   /bin/busybox and a few applets (sh, cat, ...)              static: the plugin's shell
#   /home/argocd/cmp-server/config/plugin.yaml                 examples/argocd/cmp/plugin.yaml
#
# Argo CD runs it as a repo-server sidecar with its own argocd-cmp-server as the entrypoint
# (from the shared volume at /var/run/argocd), as user 999. scripts/image.sh --argocd-cmp
# (make image) prepares rootfs-<arch>/ from binaries on this machine: it builds offline.
FROM scratch
ARG TARGETARCH
COPY rootfs-${TARGETARCH}/ /
ENV PATH=/usr/local/bin:/bin \
    HOME=/home/argocd \
    HELM_CACHE_HOME=/tmp/helm/cache \
    HELM_CONFIG_HOME=/tmp/helm/config \
    HELM_DATA_HOME=/tmp/helm/data
# Argo CD requires the sidecar to run as 999 (its argocd user).
USER 999:999
WORKDIR /home/argocd
ENTRYPOINT ["/var/run/argocd/argocd-cmp-server"]
ARG VERSION=
ARG REVISION=
ARG CREATED=
LABEL org.opencontainers.image.title="tierwall-argocd-cmp" \
      org.opencontainers.image.description="Argo CD Config Management Plugin sidecar: helm template or kustomize build, piped through tierwall-postrender" \
      org.opencontainers.image.source="https://github.com/tierwall/tierwall" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
