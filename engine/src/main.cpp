// cannery-engine: connects to a controller and runs the built-in functions and
// those of the plugins it is given, until the controller shuts it down or it
// gets SIGTERM / SIGINT.

#include <sys/prctl.h>
#include <unistd.h>

#include <charconv>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cannery/engine.hpp"
#include "cannery/messaging/receive_memory.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_error = 1;
constexpr int exit_usage = 2;

constexpr std::string_view usage =
    "usage: cannery-engine [--connection-file FILE] [--plugin LIB.so]... [--heartbeat-ms N]\n"
    "                      [--register-timeout SECONDS] [--curve-key FILE] [--insecure]\n"
    "                      [--exit-with-parent] [--no-shared-memory]\n"
    "                      [--keep-receive-memory BYTES] [--work-nice N] [--version]\n"
    "\n"
    "Connects to the controller named in FILE (written by the controller), registers, and\n"
    "runs the functions it is asked to run until it is shut down or gets SIGTERM/SIGINT.\n"
    "Without --connection-file, the file's JSON text is read from the environment variable\n"
    "CANNERY_CONNECTION_INFO (how launchers start engines without copying files). Started\n"
    "by mpiexec or srun, the engine reports its rank (OMPI_COMM_WORLD_RANK, PMI_RANK,\n"
    "PMIX_RANK or SLURM_PROCID) when it registers.\n"
    "\n"
    "  --connection-file FILE  the controller's connection file (endpoint and key)\n"
    "  --plugin LIB.so         load functions from a CANNERY_PLUGIN library (repeatable)\n"
    "  --heartbeat-ms N        registration interval until the controller sets the\n"
    "                          heartbeat (default 500)\n"
    "  --register-timeout SECONDS\n"
    "                          give up, exit status 1, when the controller has not answered\n"
    "                          the first registration by then (default 60; 0: never)\n"
    "  --curve-key FILE        this engine's CURVE secret key file (cannery-keygen), needed\n"
    "                          when the controller uses CURVE\n"
    "  --insecure              accept a connection file without a key (unsigned messages)\n"
    "  --exit-with-parent      stop (as on SIGTERM) when the process that started this one\n"
    "                          dies, even by SIGKILL: how local engines follow their controller\n"
    "  --no-shared-memory      receive put() objects over the socket even from a controller\n"
    "                          on this host (default: through /dev/shm, mapped, not copied)\n"
    "  --keep-receive-memory BYTES\n"
    "                          keep up to BYTES of freed memory for the next large message,\n"
    "                          so that it lands in pages used before (default 1073741824;\n"
    "                          0 leaves the C library's allocator as it is)\n"
    "  --work-nice N           run the functions N steps of nice (0 to 19) below the\n"
    "                          engine's heartbeat and I/O threads (default 0; a controller\n"
    "                          gives the engines it starts on its host 19 when they\n"
    "                          outnumber the CPUs)\n"
    "  --version               print the protocol version this engine speaks\n"
    "  --help                  show this text\n"
    "\n"
    "Exit status: 0 after a shutdown or signal, 1 on an error, 2 on a usage error.\n";

struct Arguments {
  std::filesystem::path connection_file;
  std::vector<std::filesystem::path> plugins;
  std::optional<long> heartbeat_ms;
  std::filesystem::path curve_key;
  bool insecure = false;
  bool exit_with_parent = false;
  bool no_shared_memory = false;
  bool help = false;
  bool version = false;
  std::size_t keep_receive_memory = std::size_t{1} << 30;
  long register_timeout_s = 60;
  int work_nice = 0;
  // For tests of how a controller meets another protocol version; not in the
  // usage text.
  std::string announce_protocol;
};

struct UsageError {
  std::string what;
};

// `text` as a whole number from `min` to `max`; a UsageError naming `flag`
// and `what` it needs otherwise.
template <class Number>
Number whole_number(std::string_view flag, std::string_view text, Number min, Number max,
                    std::string_view what) {
  Number n{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < min || n > max) {
    throw UsageError{std::string(flag) + " needs " + std::string(what)};
  }
  return n;
}

Arguments parse(int argc, char** argv) {
  Arguments args;
  std::vector<std::string_view> words(argv + 1, argv + argc);
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::string_view word = words[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= words.size()) throw UsageError{std::string(word) + " needs a value"};
      return words[++i];
    };
    if (word == "--help" || word == "-h") {
      args.help = true;
    } else if (word == "--version") {
      args.version = true;
    } else if (word == "--announce-protocol") {
      args.announce_protocol = value();
    } else if (word == "--connection-file") {
      args.connection_file = value();
    } else if (word == "--plugin") {
      args.plugins.emplace_back(value());
    } else if (word == "--curve-key") {
      args.curve_key = value();
    } else if (word == "--exit-with-parent") {
      args.exit_with_parent = true;
    } else if (word == "--no-shared-memory") {
      args.no_shared_memory = true;
    } else if (word == "--insecure") {
      args.insecure = true;
    } else if (word == "--keep-receive-memory") {
      args.keep_receive_memory =
          whole_number(word, value(), std::size_t{0}, std::numeric_limits<std::size_t>::max(),
                       "a whole number of bytes (0: off)");
    } else if (word == "--heartbeat-ms") {
      args.heartbeat_ms = whole_number(word, value(), 1L, 3'600'000L,
                                       "a whole number of milliseconds from 1 to 3600000");
    } else if (word == "--work-nice") {
      args.work_nice = whole_number(word, value(), 0, 19, "a whole number from 0 to 19");
    } else if (word == "--register-timeout") {
      args.register_timeout_s = whole_number(word, value(), 0L, 31'536'000L,
                                             "a whole number of seconds (0: wait forever)");
    } else {
      throw UsageError{"unknown argument '" + std::string(word) + "'"};
    }
  }
  if (!args.help && !args.version && args.connection_file.empty() &&
      std::getenv(std::string(cannery::connection_info_variable).c_str()) == nullptr) {
    throw UsageError{"give --connection-file FILE, or set " +
                     std::string(cannery::connection_info_variable) +
                     " to the connection file's JSON text"};
  }
  return args;
}

}  // namespace

int main(int argc, char** argv) {
  Arguments args;
  try {
    args = parse(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << "cannery-engine: " << e.what << "\n\n" << usage;
    return exit_usage;
  }
  if (args.help) {
    std::cout << usage;
    return exit_ok;
  }
  if (args.version) {
    std::cout << "cannery-engine protocol "
              << cannery::protocol::to_string(cannery::protocol::version) << '\n';
    return exit_ok;
  }
  if (args.exit_with_parent) {
    // Linux delivers SIGTERM when the parent dies; if it died before this
    // line ran, the engine was re-parented already and stops at once.
    const pid_t parent = ::getppid();
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent || parent == 1) return exit_ok;
  }
  // First, while this is the only thread: glibc gives each thread its arena
  // on its first allocation.
  if (args.keep_receive_memory > 0) cannery::keep_receive_memory_warm(args.keep_receive_memory);
  try {
    cannery::EngineOptions options;
    if (!args.connection_file.empty()) {
      options.connection_file = args.connection_file;
    } else {
      const std::string variable(cannery::connection_info_variable);
      options.connection = cannery::parse_connection_info(std::getenv(variable.c_str()),
                                                          "environment variable " + variable);
    }
    options.register_timeout = std::chrono::seconds(args.register_timeout_s);
    if (auto rank = cannery::launcher_rank()) options.rank = rank->rank;
    if (args.heartbeat_ms) options.heartbeat = std::chrono::milliseconds(*args.heartbeat_ms);
    if (!args.curve_key.empty()) options.curve_keys = cannery::read_curve_keypair(args.curve_key);
    options.insecure = args.insecure;
    options.shared_memory = !args.no_shared_memory;
    options.stop_on_signals = true;
    options.work_nice = args.work_nice;
    if (!args.announce_protocol.empty()) options.protocol = args.announce_protocol;
    cannery::Engine engine(std::move(options));
    cannery::register_builtin_functions(engine.functions());
    for (const auto& plugin : args.plugins)
      cannery::load_plugin(plugin, engine.functions());
    engine.run();
    return exit_ok;
  } catch (const std::exception& e) {
    std::cerr << "cannery-engine: " << e.what() << '\n';
    return exit_error;
  }
}
