# Shared by scripts/test.sh and scripts/demo.sh: install what is missing, then
# configure and build. Sourced, not run.

CANNERY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Debian packages the build, the tests and the interoperability checks need.
CANNERY_PACKAGES=(
  g++ cmake make pkg-config
  libzmq3-dev cppzmq-dev libsodium-dev nettle-dev nlohmann-json3-dev
  libmsgpack-cxx-dev libboost-dev
  libeigen3-dev catch2 libbenchmark-dev
  liblz4-dev libzstd-dev libblosc-dev
  python3 python3-numpy python3-msgpack python3-jupyter-client
  python3-lz4 python3-zstandard python3-blosc
  iproute2
)

cannery_install_missing() {
  local missing=()
  local pkg
  for pkg in "${CANNERY_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "cannery: installing missing packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# cannery_configure BUILD_DIR [extra cmake args...]: once; a configured
# folder keeps its settings. Test programs are compiled as one unit each
# (CANNERY_UNITY_TESTS, tests/CMakeLists.txt): the build of every test takes
# about half the time.
cannery_configure() {
  local dir=$1
  shift
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S "$CANNERY_ROOT" -B "$dir" -DCANNERY_UNITY_TESTS=ON "$@"
  fi
}

# cannery_build BUILD_DIR [extra cmake args...]
cannery_build() {
  cannery_configure "$@"
  cmake --build "$1" -j2
}
