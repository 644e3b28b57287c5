#include "launch.hpp"

#include <atomic>
#include <chrono>
#include <fstream>
#include <numeric>
#include <type_traits>
#include <variant>

#include "cannery/canning/error.hpp"
#include "host.hpp"

namespace cannery::detail {
namespace {

std::string variable_assignment(const ConnectionInfo& info) {
  return std::string(connection_info_variable) + "=" + connection_info_json(info);
}

// A host name or address that is this machine.
bool is_this_host(std::string host) {
  if (auto at = host.rfind('@'); at != std::string::npos) host = host.substr(at + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host.starts_with("127.") || host == "::1" ||
         host == this_hostname();
}

// One word for sh, whatever it holds.
std::string shell_quoted(const std::string& word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// The engine program and its arguments as one sh command line.
std::string engine_command(const std::string& program, const EngineSpawnOptions& options) {
  std::string command = shell_quoted(program);
  for (const std::string& arg : engine_arguments(options))
    command += " " + shell_quoted(arg);
  return command;
}

// `text` with every `placeholder` replaced by `value`.
std::string filled(std::string text, std::string_view placeholder, const std::string& value) {
  for (auto at = text.find(placeholder); at != std::string::npos;
       at = text.find(placeholder, at + value.size())) {
    text.replace(at, placeholder.size(), value);
  }
  return text;
}

// A file name part made of the host's letters, digits, '-' and '.'.
std::string file_part(const std::string& text) {
  std::string out;
  for (char c : text)
    out += (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.') ? c : '_';
  return out;
}

std::vector<Launch> by_ssh(std::size_t n, const SshLauncher& ssh, const EngineSpawnOptions& options,
                           const ConnectionInfo& info, const std::filesystem::path& logs) {
  const std::size_t listed =
      std::accumulate(ssh.hosts.begin(), ssh.hosts.end(), std::size_t{0},
                      [](std::size_t sum, const auto& host) { return sum + host.second; });
  if (listed != n) {
    throw error(errc::invalid_argument,
                "start_engines(" + std::to_string(n) + ", SshLauncher) lists " +
                    std::to_string(listed) +
                    " engines in its hosts; give n as the sum of the hosts' counts");
  }
  // The connection info arrives on standard input, read into the variable
  // the engine reads: it holds the key, so never on a command line.
  const std::string command = std::string(connection_info_variable) + "=\"$(cat)\" && export " +
                              std::string(connection_info_variable) + " && exec " +
                              engine_command(ssh.program, options);
  std::vector<Launch> out;
  for (const auto& [host, count] : ssh.hosts) {
    for (std::size_t i = 0; i < count; ++i) {
      Launch launch;
      launch.argv = {ssh.ssh.string()};
      launch.argv.insert(launch.argv.end(), ssh.ssh_args.begin(), ssh.ssh_args.end());
      // No password prompt to hang on, no terminal: a failure is an exit status.
      launch.argv.insert(launch.argv.end(), {"-o", "BatchMode=yes", "-T", host, command});
      launch.label = "ssh " + host + " (engine " + std::to_string(i + 1) + " of " +
                     std::to_string(count) + " there)";
      launch.input = connection_info_json(info);
      launch.output = logs / ("ssh-" + file_part(host) + "-" + std::to_string(i + 1) + ".log");
      launch.launcher = true;
      out.push_back(std::move(launch));
    }
  }
  return out;
}

// One launcher process for all `n` engines (mpiexec, srun): `head`, then the
// program and the engine's arguments; the connection info in its environment,
// which it passes on to the ranks.
std::vector<Launch> one_for_all(std::vector<std::string> head, const std::string& program,
                                const EngineSpawnOptions& options, const ConnectionInfo& info,
                                const std::filesystem::path& output) {
  Launch launch;
  launch.label = head.front() + " " + head[1] + " " + head[2];
  launch.argv = std::move(head);
  launch.argv.push_back(program);
  for (std::string& arg : engine_arguments(options))
    launch.argv.push_back(std::move(arg));
  launch.environment = {variable_assignment(info)};
  launch.output = output;
  launch.launcher = true;
  return {std::move(launch)};
}

std::vector<Launch> by_mpiexec(std::size_t n, const MpiexecLauncher& mpi,
                               const EngineSpawnOptions& options, const ConnectionInfo& info,
                               const std::filesystem::path& logs) {
  const bool open_mpi = mpi.flavor == MpiexecLauncher::Flavor::open_mpi;
  std::vector<std::string> head{mpi.mpiexec.string(), "-n", std::to_string(n),
                                open_mpi ? "-x" : "-genvlist",
                                std::string(connection_info_variable)};
  head.insert(head.end(), mpi.mpiexec_args.begin(), mpi.mpiexec_args.end());
  return one_for_all(std::move(head), mpi.program, options, info, logs / "mpiexec.log");
}

std::vector<Launch> by_srun(std::size_t n, const SlurmLauncher& slurm,
                            const EngineSpawnOptions& options, const ConnectionInfo& info,
                            const std::filesystem::path& logs) {
  // srun passes the whole environment on (--export=ALL, its default).
  std::vector<std::string> head{slurm.srun.string(), "--ntasks", std::to_string(n)};
  head.insert(head.end(), slurm.srun_args.begin(), slurm.srun_args.end());
  return one_for_all(std::move(head), slurm.program, options, info, logs / "srun.log");
}

}  // namespace

bool reachable_from_here_only(const std::string& endpoint) {
  if (endpoint.starts_with("ipc://") || endpoint.starts_with("inproc://")) return true;
  constexpr std::string_view tcp = "tcp://";
  if (!endpoint.starts_with(tcp)) return false;
  const std::string authority = endpoint.substr(tcp.size());
  const auto colon = authority.rfind(':');
  const std::string host = colon == std::string::npos ? authority : authority.substr(0, colon);
  return host != this_hostname() && is_this_host(host);
}

void check_reachable(const std::string& endpoint, const Launcher& launcher) {
  if (!reachable_from_here_only(endpoint)) return;
  std::string elsewhere;
  if (const auto* ssh = std::get_if<SshLauncher>(&launcher)) {
    for (const auto& [host, count] : ssh->hosts)
      if (!is_this_host(host)) elsewhere = "ssh host " + host;
  } else if (const auto* mpi = std::get_if<MpiexecLauncher>(&launcher)) {
    if (!mpi->same_host) elsewhere = "mpiexec";
  } else if (const auto* slurm = std::get_if<SlurmLauncher>(&launcher)) {
    if (!slurm->same_host) elsewhere = "srun";
  } else if (std::holds_alternative<SbatchLauncher>(launcher)) {
    elsewhere = "sbatch";
  }
  if (elsewhere.empty()) return;
  throw error(errc::invalid_argument,
              "engines started by " + elsewhere + " could not reach this controller at " +
                  endpoint +
                  ", which only processes of this host can connect to; bind it where they "
                  "reach it: ControllerOptions::interface = \"tcp://<an address of this host "
                  "on their network>\", or endpoint = \"tcp://0.0.0.0:<port>\" (with "
                  "advertised_host if this host's name does not resolve there). For mpiexec "
                  "or srun ranks that all run on this host, set same_host = true");
}

std::vector<Launch> launches(std::size_t n, const Launcher& launcher,
                             const EngineSpawnOptions& options, const ConnectionInfo& info,
                             const std::filesystem::path& log_directory) {
  return std::visit(
      [&](const auto& l) -> std::vector<Launch> {
        using L = std::decay_t<decltype(l)>;
        if constexpr (std::is_same_v<L, SshLauncher>) {
          return by_ssh(n, l, options, info, log_directory);
        } else if constexpr (std::is_same_v<L, MpiexecLauncher>) {
          return by_mpiexec(n, l, options, info, log_directory);
        } else if constexpr (std::is_same_v<L, SlurmLauncher>) {
          return by_srun(n, l, options, info, log_directory);
        } else {
          throw error(errc::invalid_argument,
                      "a LocalLauncher or SbatchLauncher runs no process that lasts");
        }
      },
      launcher);
}

BatchJob submit_batch_job(std::size_t n, const SbatchLauncher& launcher,
                          const EngineSpawnOptions& options, const ConnectionInfo& info,
                          const std::filesystem::path& log_directory) {
  static std::atomic<int> submitted{0};
  const std::string name = "sbatch-" + std::to_string(++submitted);
  const std::filesystem::path script = log_directory / (name + ".sh");
  {
    std::ofstream out(script);
    out << filled(filled(launcher.script_template, "{ntasks}", std::to_string(n)), "{engines}",
                  engine_command(launcher.program, options));
    if (!out) throw error(errc::io_error, "could not write the batch script " + script.string());
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  BatchJob job{{}, launcher.scancel, log_directory / (name + "-job.log")};
  Launch submit;
  submit.argv = {launcher.sbatch.string(), "--parsable", "--output=" + job.output.string()};
  submit.argv.insert(submit.argv.end(), launcher.sbatch_args.begin(), launcher.sbatch_args.end());
  submit.argv.push_back(script.string());
  submit.label = launcher.sbatch.string() + " " + script.string();
  submit.environment = {variable_assignment(info)};
  submit.output = log_directory / (name + ".log");
  const RunOutcome outcome = run_to_end(std::move(submit), std::chrono::seconds(60));
  if (outcome.status != 0) throw error(errc::io_error, "sbatch failed: " + outcome.output);
  // --parsable prints "<job id>" or "<job id>;<cluster>" on its last line
  // (warnings may come before it).
  const std::string_view output(outcome.output);
  const std::size_t end = output.find_last_not_of("\n ") + 1;  // 0 when all blank
  const std::size_t begin = output.find_last_of('\n', end == 0 ? 0 : end - 1) + 1;  // npos + 1 = 0
  const std::string_view last = output.substr(begin, end - begin);
  job.id = std::string(last.substr(0, last.find(';')));
  if (job.id.empty() || job.id.find_first_not_of("0123456789_") != std::string::npos) {
    throw error(errc::io_error, "sbatch printed no job id, but '" + outcome.output.substr(0, 200) +
                                    "'; check its arguments (sbatch_args)");
  }
  return job;
}

}  // namespace cannery::detail
