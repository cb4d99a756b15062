// The message as the nodes of a cluster store and publish it: a Redis history entry, a dedupe
// record and a Pub/Sub payload all hold these bytes. Written by the publish script inside Redis
// (server/broker/redisscripts.h, Lua's cjson) and read by every node, so this codec and that
// script are the two ends of one format (tests/unit/redis/redisscript_test.cpp checks the
// script's bytes decode here):
//
//   {"r":ROOM,"e":EPOCH,"q":"SEQ","i":MSG_ID,"s":SENDER,"c":CLIENT_ID,"b":BODY,"t":"TS_MS"}
//
// One-letter keys because the format is stored once per message and published to every node;
// seq and ts travel as decimal strings because cjson prints numbers past 2^53 in floating point.
// Not a client frame: clients only ever see the `message` frame (codec.h).
#pragma once

#include "codec.h"

#include <string>
#include <string_view>

namespace parley::protocol::stored {

std::string encodeMessage(const Message& message);

//! Decodes stored bytes; room and a seq above 0 are required, every other field defaults to
//! empty (0 for ts). seq and ts are accepted as decimal strings or JSON integers. A payload
//! larger than `maxBytes` or nested at all is refused unread.
DecodeResult<Message> decodeMessage(std::string_view bytes, std::size_t maxBytes = 4 * 1024 * 1024);

} // namespace parley::protocol::stored
