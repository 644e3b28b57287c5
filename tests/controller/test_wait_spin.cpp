// Waiting for a result spins, then sleeps (ControllerOptions::wait_spin):
// either way the wait ends when the result lands, and never after its
// timeout. The elapsed-time checks are not speed claims: each bound is
// seconds away from the path it rules out.
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <thread>

#include "cannery/controller/detail/completion.hpp"
#include "cluster.hpp"
#include "test_support.hpp"

using namespace cannery;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Waits up to 10 s on `c` while another thread settles it after `delay`,
// notifying sleepers or not; returns how long the wait took.
Clock::duration wait_for_settled_later(detail::Completion& c, std::chrono::milliseconds delay,
                                       bool notify) {
  const auto start = Clock::now();
  std::thread settler([&c, delay, notify] {
    std::this_thread::sleep_for(delay);
    if (notify) {
      c.update([] { return true; });
    } else {
      std::lock_guard lock(c.mutex());
      c.settle();  // and nobody woken
    }
  });
  const bool settled = c.wait(10s);
  const auto took = Clock::now() - start;
  settler.join();
  CHECK(settled);
  return took;
}

}  // namespace

TEST_CASE("a spinning waiter sees the result without being notified", "[controller][wait]") {
  // No notify: only the spin can see it well before the 10 s timeout.
  detail::Completion c(3s);
  CHECK(wait_for_settled_later(c, 20ms, false) < 2s);
}

TEST_CASE("a waiter past its spin sleeps and is woken by the result", "[controller][wait]") {
  for (const auto spin : {0us, 1000us}) {
    CAPTURE(spin.count());
    detail::Completion c(spin);
    CHECK(wait_for_settled_later(c, 100ms, true) < 5s);
  }
}

TEST_CASE("a wait shorter than the spin ends at its timeout", "[controller][wait]") {
  detail::Completion c(60s);
  const auto start = Clock::now();
  CHECK_FALSE(c.wait(50ms));
  CHECK(Clock::now() - start < 5s);
  CHECK_FALSE(c.settled());
}

TEST_CASE("the spin window is the spin, cut to the timeout", "[controller][wait]") {
  CHECK(detail::spin_window(200us, 1h) == 200us);
  CHECK(detail::spin_window(200us, 0ms) == 0us);
  CHECK(detail::spin_window(5000us, 2ms) == 2000us);
  CHECK(detail::spin_window(200us, -5ms) == 0us);
  // The longest timeout does not overflow on the way to microseconds.
  CHECK(detail::spin_window(200us, std::chrono::milliseconds::max()) == 200us);
}

TEST_CASE("a negative wait_spin is refused", "[controller][wait]") {
  ControllerOptions o = test::fast_options();
  o.wait_spin = -1us;
  const error e = test::capture_error([&] { Controller c(o); });
  CHECK(e.code() == errc::invalid_argument);
  CHECK_THAT(e.message(), Catch::Contains("wait_spin"));
}

TEST_CASE("results arrive with spinning on and off", "[controller][wait]") {
  for (const auto spin : {0us, 200us}) {
    CAPTURE(spin.count());
    ControllerOptions o = test::fast_options();
    o.wait_spin = spin;
    test::Cluster cluster(1, o);
    CHECK(cluster.controller.apply(0, "echo", 7).get<int>(5s) == 7);
    CHECK(cluster.controller.map("square", MapOptions{}, std::vector<double>{1, 2, 3})
              .get<double>(5s) == std::vector<double>{1, 4, 9});
  }
}
