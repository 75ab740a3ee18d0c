# agentscale's conda-compatible activation shim for offline SWE-bench images.
#
# There is no conda in these images: each environment is a Python virtual environment under
# /opt/miniconda3/envs/<name>. Sourcing this file (as the official eval scripts do with
# `source /opt/miniconda3/bin/activate`) defines a `conda` shell function that understands
# `conda activate <name>`, `conda deactivate` and `conda env list`, so that the unchanged eval
# script and an agent's shell resolve `python`, `pip` and `pytest` to the environment.
conda() {
    case "${1:-}" in
        activate)
            local name="${2:-base}"
            if [ "$name" = base ]; then
                conda deactivate
                return 0
            fi
            local prefix="/opt/miniconda3/envs/$name"
            if [ ! -f "$prefix/bin/activate" ]; then
                echo "conda: no environment named $name (agentscale images have: $(ls /opt/miniconda3/envs 2>/dev/null | tr '\n' ' '))" >&2
                return 1
            fi
            VIRTUAL_ENV_DISABLE_PROMPT=1 . "$prefix/bin/activate"
            export CONDA_DEFAULT_ENV="$name" CONDA_PREFIX="$prefix"
            ;;
        deactivate)
            if command -v deactivate >/dev/null 2>&1; then deactivate; fi
            export CONDA_DEFAULT_ENV=base CONDA_PREFIX=/opt/miniconda3
            ;;
        env|info)
            echo "# conda environments (agentscale shim):"
            for d in /opt/miniconda3/envs/*/; do [ -d "$d" ] && echo "$(basename "$d")  ${d%/}"; done
            ;;
        *)
            command conda "$@"
            ;;
    esac
}
export CONDA_DEFAULT_ENV="${CONDA_DEFAULT_ENV:-base}" CONDA_PREFIX="${CONDA_PREFIX:-/opt/miniconda3}"
