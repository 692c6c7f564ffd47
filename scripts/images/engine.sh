# Sourced by scripts/image.sh and scripts/verify-image.sh (which define die and TOOLS): sets
# engine to CONTAINER_ENGINE, else a working Docker, else podman, and points podman at the
# containers.conf that scripts/tools.sh writes (offline builds, no registry pulls).
engine="${CONTAINER_ENGINE:-}"
if [[ -z "$engine" ]]; then
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    engine=docker
  elif command -v podman >/dev/null; then
    engine=podman
  else
    die "no container engine: install podman (scripts/tools.sh podman) or Docker, or set CONTAINER_ENGINE"
  fi
fi
if [[ "$(basename "$engine")" != docker* || "$("$engine" --version 2>/dev/null)" == *podman* ]]; then
  if [[ -z "${CONTAINERS_CONF:-}" && -f "$TOOLS/containers.conf" ]]; then
    export CONTAINERS_CONF="$TOOLS/containers.conf"
  fi
fi
