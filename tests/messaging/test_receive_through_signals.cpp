// A signal the program handles, landing on a thread that waits in
// Session::receive, neither ends the wait early nor throws: the wait goes on
// until a message or the timeout (cppzmq throws zmq::error_t for EINTR).

#include <cannery/messaging.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "handled_signal.hpp"
#include "socket_pair.hpp"

using namespace std::chrono_literals;

TEST_CASE("Session::receive waits on through signals the program handles", "[messaging][session]") {
  cannery::test::HandledSignal signal;
  zmq::context_t context;
  cannery::test::SocketPair pair(context, cannery::test::Transport::ipc, zmq::socket_type::router,
                                 zmq::socket_type::dealer);
  cannery::SessionOptions options;
  options.key = "secret-key";
  cannery::Session client(options);
  cannery::Session server(options);

  const pthread_t receiver = ::pthread_self();
  std::thread interrupter([&] {
    // Signals while the receiver waits, then the message it waits for.
    for (int i = 0; i < 5; ++i) {
      std::this_thread::sleep_for(20ms);
      ::pthread_kill(receiver, SIGUSR1);
    }
    client.send(pair.client, client.message("after_signals"));
  });
  std::optional<cannery::Message> received;
  CHECK_NOTHROW(received = server.receive(pair.server, 10s));
  interrupter.join();
  REQUIRE(received);
  CHECK(received->header.msg_type == "after_signals");

  // Interrupted and nothing arrives: nothing, after the timeout.
  std::thread late([&] {
    std::this_thread::sleep_for(20ms);
    ::pthread_kill(receiver, SIGUSR1);
  });
  CHECK_NOTHROW(received = server.receive(pair.server, 200ms));
  late.join();
  CHECK_FALSE(received);
}
