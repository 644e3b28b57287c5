// cannery-keygen: makes a CURVE key pair for a controller or an engine.
//
// The public key goes to stdout alone, so scripts can capture it; everything
// else goes to stderr.

#include <cannery/canning/error.hpp>
#include <cannery/messaging/curve.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

namespace {

constexpr int kOk = 0;
constexpr int kError = 1;
constexpr int kUsage = 2;

constexpr const char* kHelp =
    "usage: cannery-keygen [--force] BASE\n"
    "\n"
    "Makes a CURVE key pair for cannery sockets and prints its public key.\n"
    "\n"
    "  BASE.key      public and secret key (JSON), mode 0600: keep it private\n"
    "  BASE.key.pub  public key only (JSON), mode 0644: give it to peers\n"
    "\n"
    "Put a server's public key in its clients' connection files (curve_server_key)\n"
    "and each client's public key in the server's allow-list.\n"
    "\n"
    "options:\n"
    "  -f, --force   replace existing key files (a new pair; the old one stops working)\n"
    "  -h, --help    show this help and exit\n"
    "\n"
    "exit status: 0 written, 1 error (nothing overwritten), 2 usage error\n";

int usage_error(const std::string& problem) {
  std::fprintf(stderr, "cannery-keygen: %s\nusage: cannery-keygen [--force] BASE (see --help)\n",
               problem.c_str());
  return kUsage;
}

}  // namespace

int main(int argc, char** argv) {
  bool force = false;
  bool options_done = false;
  std::string base;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!options_done && (arg == "-h" || arg == "--help")) {
      std::fputs(kHelp, stdout);
      return kOk;
    }
    if (!options_done && (arg == "-f" || arg == "--force")) {
      force = true;
    } else if (!options_done && arg == "--") {
      options_done = true;
    } else if (!options_done && arg.size() > 1 && arg.front() == '-') {
      return usage_error("unknown option '" + std::string(arg) + "'");
    } else if (base.empty()) {
      base = arg;
    } else {
      return usage_error("expected one BASE, got '" + base + "' and '" + std::string(arg) + "'");
    }
  }
  if (base.empty()) return usage_error("missing BASE (the key files are BASE.key, BASE.key.pub)");

  try {
    const cannery::CurveKeyPair keys = cannery::generate_curve_keypair();
    cannery::write_curve_keypair(
        base, keys, force ? cannery::ExistingKeyFiles::replace : cannery::ExistingKeyFiles::refuse);
    std::fprintf(stderr, "cannery-keygen: wrote %s.key (secret, mode 0600) and %s.key.pub\n",
                 base.c_str(), base.c_str());
    std::printf("%s\n", keys.public_key.c_str());
    return std::fflush(stdout) == 0 ? kOk : kError;
  } catch (const cannery::error& e) {
    std::fprintf(stderr, "cannery-keygen: %s\n", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cannery-keygen: unexpected error: %s\n", e.what());
  }
  return kError;
}
