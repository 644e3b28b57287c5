#include "cannery/controller/controller.hpp"

#include <stdlib.h>

#include <algorithm>
#include <string>

#include "advertise.hpp"
#include "auto_puts.hpp"
#include "cannery/messaging/protocol.hpp"
#include "core.hpp"
#include "host.hpp"
#include "launch.hpp"
#include "spawner.hpp"

namespace cannery {
namespace detail {

std::size_t common_map_size(std::string_view function, std::initializer_list<std::size_t> sizes) {
  const std::size_t n = *sizes.begin();
  for (std::size_t s : sizes) {
    if (s != n) {
      throw error(errc::invalid_argument, "map of '" + std::string(function) +
                                              "' over ranges of different sizes (" +
                                              std::to_string(n) + " and " + std::to_string(s) +
                                              "); give ranges of one size");
    }
  }
  return n;
}

}  // namespace detail

namespace {

// "tcp://0.0.0.0:5555" cannot be connected to from elsewhere: advertise a
// host instead, as IPython's controllers do with their location.
std::string advertised_endpoint(const std::string& bound, const std::string& advertised_host) {
  for (const std::string wildcard : {"tcp://0.0.0.0:", "tcp://[::]:", "tcp://*:"}) {
    if (bound.rfind(wildcard, 0) == 0) {
      const std::string host = detail::choose_advertised_host(
          advertised_host, detail::this_hostname(), detail::resolve_host,
          detail::interface_addresses(), bound);
      return "tcp://" + host + ":" + bound.substr(wildcard.size());
    }
  }
  return bound;
}

std::filesystem::path private_directory() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "cannery-controller-XXXXXX").string();
  // mkdtemp makes it 0700: nobody else can even list the connection file.
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw error(errc::io_error,
                "could not create a private directory for the connection file "
                "under " +
                    std::filesystem::temp_directory_path().string() +
                    "; set ControllerOptions::connection_file");
  }
  return pattern;
}

}  // namespace

Controller::Controller(ControllerOptions options) : options_(std::move(options)) {
  if (!options_.key.empty() && options_.insecure) {
    throw error(errc::invalid_argument,
                "ControllerOptions: a key was given and insecure = true; drop one of them");
  }
  std::string key = options_.key;
  if (key.empty() && !options_.insecure) key = generate_key();
  core_ = std::make_shared<detail::Core>(options_, key);

  info_.endpoints[std::string(protocol::engines_endpoint)] =
      advertised_endpoint(core_->bound_endpoint(), options_.advertised_host);
  info_.key = key;
  if (options_.curve_server) info_.curve_server_public_key = options_.curve_server->public_key;
  if (options_.connection_file.empty()) {
    private_dir_ = private_directory();
    connection_file_ = private_dir_ / "controller.json";
  } else {
    connection_file_ = options_.connection_file;
  }
  try {
    write_connection_file(connection_file_, info_);
  } catch (...) {
    if (!private_dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(private_dir_, ignored);
    }
    throw;
  }
  spawner_ = std::make_unique<detail::Spawner>();
  auto_puts_ = std::make_unique<detail::AutoPuts>(options_.auto_put_min_bytes);
  core_->start();
}

Controller::~Controller() {
  try {
    if (auto running = spawner_->running(); !running.empty()) {
      core_->shutdown_engines(running, false);
    }
    // Launchers get SIGTERM and batch jobs their scancel even when no local
    // engine runs.
    spawner_->terminate(options_.shutdown_grace);
  } catch (...) {
    // The Spawner's destructor still kills and reaps what is left.
  }
  core_->stop();
  spawner_.reset();
  if (remove_launch_logs_) {
    std::error_code ignored;
    std::filesystem::remove_all(launch_logs_, ignored);
  }
  if (!private_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(private_dir_, ignored);
  }
}

const std::string& Controller::endpoint() const {
  return info_.endpoints.at(std::string(protocol::engines_endpoint));
}

void Controller::spawn_local_engines(std::size_t n, EngineSpawnOptions options) {
  // More engines than CPUs take turns on them with this process, whose I/O
  // thread they all wait on: a fair share of one CPU among them all starves it.
  if (!options.work_nice) {
    const bool oversubscribed = spawner_->running().size() + n > detail::usable_cpus();
    options.work_nice = oversubscribed ? oversubscribed_work_nice : 0;
  }
  spawner_->spawn(n, options, connection_file_);
}

void Controller::start_engines(std::size_t n, const Launcher& launcher,
                               EngineSpawnOptions options) {
  if (std::holds_alternative<LocalLauncher>(launcher)) return spawn_local_engines(n, options);
  detail::check_reachable(endpoint(), launcher);
  if (const auto* sbatch = std::get_if<SbatchLauncher>(&launcher)) {
    spawner_->track(detail::submit_batch_job(n, *sbatch, options, info_, launch_logs()));
    return;
  }
  for (detail::Launch& launch : detail::launches(n, launcher, options, info_, launch_logs()))
    spawner_->start(std::move(launch));
}

const std::filesystem::path& Controller::launch_logs() {
  if (launch_logs_.empty()) {
    if (!options_.launch_log_directory.empty()) {
      std::filesystem::create_directories(options_.launch_log_directory);
      launch_logs_ = options_.launch_log_directory;
    } else {
      launch_logs_ = private_directory();
      remove_launch_logs_ = true;
    }
  }
  return launch_logs_;
}

const std::string& Controller::heartbeat_endpoint() const {
  return core_->heart_endpoint();
}

std::vector<int> Controller::spawned_pids() const {
  return spawner_->pids();
}

void Controller::wait_for_engines(std::size_t n, std::chrono::milliseconds timeout) {
  try {
    core_->wait_for_engines(n, timeout, endpoint());
  } catch (const error& e) {
    if (e.code() != errc::timeout) throw;
    const std::vector<std::string> failed = spawner_->failures();
    const std::vector<std::string> jobs = spawner_->jobs();
    if (failed.empty() && jobs.empty()) throw;
    std::string why = e.message();
    for (std::size_t i = 0; i < failed.size(); ++i)
      why += (i == 0 ? ". Of the processes started for engines, " : "; ") + failed[i];
    for (std::size_t i = 0; i < jobs.size(); ++i)
      why +=
          (i == 0 ? ". Submitted and perhaps still waiting for nodes (squeue shows it): " : "; ") +
          jobs[i];
    throw error(errc::timeout, why);
  }
}

std::vector<EngineInfo> Controller::engines() const {
  return core_->engines();
}

std::vector<int> Controller::engine_ids() const {
  std::vector<int> ids;
  for (const EngineInfo& e : core_->engines())
    if (e.alive) ids.push_back(e.id);
  return ids;
}

void Controller::keep_argument(detail::Submission& s, std::vector<Buffer>& frames,
                               std::size_t first) {
  const std::span<const Buffer> argument(frames.data() + first, frames.size() - first);
  if (!auto_puts_->borrows_enough(argument)) {
    for (std::size_t i = first; i < frames.size(); ++i)
      frames[i] = frames[i].owned();
    return;
  }
  ObjectRef ref = auto_puts_->ref_for(
      argument, [this](std::vector<Buffer> object) { return put_frames(std::move(object)); });
  frames.resize(first);
  can(ref).append_to(frames);
  s.refs.push_back(ref.id());
  s.held.push_back(std::move(ref));
}

AsyncResult Controller::submit_one(detail::Submission s, int target, const ApplyOptions& options) {
  auto state = std::make_shared<detail::TaskState>(options_.wait_spin);
  if (options.keep_result) {
    auto* apply = std::get_if<protocol::ApplyRequest>(&s.request);
    if (apply == nullptr) {
      throw error(errc::invalid_argument, "ApplyOptions::keep_result is for apply and apply_with");
    }
    const std::uint64_t id = core_->new_ref_id();
    apply->keep_as = id;
    s.keep_as = id;
    state->keep(std::make_shared<const detail::RefHandle>(
        id, 0, std::weak_ptr<detail::RefReleaser>(core_)));
  }
  // A targeted task's engine is known now, before the I/O thread sends it.
  if (target != any_engine) state->dispatched(0, target);
  s.target = target;
  s.retries = options.retries;
  s.deadline = detail::deadline_after(options.timeout);
  s.sink = state;
  core_->submit(std::span(&s, 1));
  return AsyncResult(std::move(state));
}

std::vector<AsyncResult> Controller::submit_to_all(detail::Submission s,
                                                   const ApplyOptions& options) {
  if (options.keep_result) {
    throw error(errc::invalid_argument,
                "ApplyOptions::keep_result is for apply and apply_with, not broadcast: put() "
                "the object instead, or keep one result per apply");
  }
  const std::vector<int> ids = engine_ids();
  std::vector<AsyncResult> results;
  std::vector<detail::Submission> batch;
  const auto deadline = detail::deadline_after(options.timeout);
  for (int id : ids) {
    detail::Submission copy = s;  // copies Buffers (shared), never their bytes
    auto state = std::make_shared<detail::TaskState>(options_.wait_spin);
    state->dispatched(0, id);
    copy.target = id;
    copy.retries = 0;  // a broadcast share belongs to its engine
    copy.deadline = deadline;
    copy.sink = state;
    batch.push_back(std::move(copy));
    results.emplace_back(std::move(state));
  }
  if (!batch.empty()) core_->submit(batch);
  return results;
}

void Controller::submit_batch(std::vector<detail::Submission> batch) {
  core_->submit(batch);
}

ObjectRef Controller::put_frames(std::vector<Buffer> frames) {
  std::size_t bytes = 0;
  for (const Buffer& f : frames)
    bytes += f.size();
  const std::uint64_t id = core_->new_ref_id();
  core_->add_ref(id, std::move(frames));
  return ObjectRef(std::make_shared<const detail::RefHandle>(
      id, bytes, std::weak_ptr<detail::RefReleaser>(core_)));
}

AsyncResult Controller::push(int target, std::vector<std::pair<std::string, Object>> values) {
  std::vector<std::string> names;
  std::vector<Buffer> frames;
  for (auto& [name, value] : values) {
    names.push_back(name);
    can(value).append_to(frames);
  }
  return push_frames(target, std::move(names), detail::owned_frames(std::move(frames)));
}

AsyncResult Controller::push_frames(int target, std::vector<std::string> names,
                                    std::vector<Buffer> frames) {
  if (target == any_engine) {
    throw error(errc::invalid_argument, "push needs a target engine id, not any_engine");
  }
  protocol::PushRequest request;
  request.names = std::move(names);
  detail::Submission s;
  s.request = std::move(request);
  s.frames = std::move(frames);
  return submit_one(std::move(s), target, {});
}

AsyncResult Controller::pull(int target, std::string name) {
  if (target == any_engine) {
    throw error(errc::invalid_argument, "pull needs a target engine id, not any_engine");
  }
  protocol::PullRequest request;
  request.name = std::move(name);
  detail::Submission s;
  s.request = std::move(request);
  return submit_one(std::move(s), target, {});
}

void Controller::shutdown_engines() {
  core_->shutdown_engines({}, true);
}

std::uint64_t Controller::bytes_sent() const {
  return core_->stats().bytes_sent;
}

ControllerStats Controller::stats() const {
  ControllerStats s = core_->stats();
  s.auto_puts = auto_puts_->puts();
  s.auto_put_reuses = auto_puts_->reuses();
  return s;
}

}  // namespace cannery
