// A program outside the cannery tree, built against the installed package:
// cans an apply message, signs it into a Jupyter envelope and reads it back,
// then starts the installed cannery-engine (its path is the first argument)
// and runs a task on it.
#include <cannery/canning.hpp>
#include <cannery/controller.hpp>
#include <cannery/messaging/session.hpp>
#include <chrono>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: consumer PATH-OF-INSTALLED-cannery-engine\n";
    return 2;
  }
  cannery::SessionOptions options;
  options.key = "consumer-key";
  cannery::Session session(options);
  cannery::Message message = session.message("apply_request");
  message.buffers = cannery::pack_apply_message("scale", std::vector<double>(6, 1.0), 2.5);
  cannery::Message received = session.deserialize(session.serialize(message));

  auto call = cannery::unpack_apply_message(received.buffers);
  auto values = call.next_arg<std::vector<double>>();
  double factor = call.next_arg<double>();
  std::cout << "consumer: " << values.size() << " x " << factor << " = "
            << static_cast<double>(values.size()) * factor << "\n";

  cannery::Controller controller;
  cannery::EngineSpawnOptions spawn;
  spawn.program = argv[1];
  controller.spawn_local_engines(1, spawn);
  controller.wait_for_engines(1, std::chrono::seconds(60));
  std::cout << "consumer: the installed engine says 2 + 3 = "
            << controller.apply(cannery::any_engine, "add", 2.0, 3.0).get<double>() << "\n";
  return 0;
}
