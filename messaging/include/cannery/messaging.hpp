#pragma once
// The messaging layer: signed Jupyter envelopes over ZeroMQ, zero-copy frames,
// CURVE, connection files, the controller <-> engine protocol (its typed
// messages and codec: docs/protocol.md), and shared
// memory for large frames on one host. See docs/messaging.md.

#include "cannery/canning.hpp"
#include "cannery/messaging/batch.hpp"
#include "cannery/messaging/codec.hpp"
#include "cannery/messaging/compression.hpp"
#include "cannery/messaging/connection_file.hpp"
#include "cannery/messaging/curve.hpp"
#include "cannery/messaging/dispatch.hpp"
#include "cannery/messaging/frames.hpp"
#include "cannery/messaging/heart.hpp"
#include "cannery/messaging/hmac.hpp"
#include "cannery/messaging/messages.hpp"
#include "cannery/messaging/protocol.hpp"
#include "cannery/messaging/refusals.hpp"
#include "cannery/messaging/replay_history.hpp"
#include "cannery/messaging/session.hpp"
#include "cannery/messaging/shared_array.hpp"
#include "cannery/messaging/shared_memory.hpp"
