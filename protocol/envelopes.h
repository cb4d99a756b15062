// The HTTP transports' envelopes (docs/protocol.md, "HTTP transports"): what wraps the v1 frames
// on the way through `POST /v1/session`, `GET /v1/poll`, `POST /v1/commands` and the SSE stream's
// `close` event. One codec for both sides, like codec.h for the frames themselves: the server
// encodes what the SDK decodes and the reverse, so the two cannot drift apart.
//
// Frames inside an envelope travel as compact JSON text and are not decoded here (the frame
// codec does that, once, where the frame is handled). Decoding copies a frame's bytes verbatim
// when it was sent as one frame, and re-serialises it exactly (64-bit integers kept) when it
// was an element of an array. Every decoder takes untrusted bytes and returns the envelope or a
// typed DecodeError; none throws.
#pragma once

#include "codec.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::protocol::http {

//! The answer to `POST /v1/session` (200): the session's handle and its first frame.
struct SessionReply {
    std::string session; //!< the session's id, for logs
    std::string token; //!< session token for the `X-Parley-Session` header
    std::uint64_t cursor = 0; //!< cursor of the welcome frame (the first downstream frame)
    std::string welcome; //!< the welcome frame, compact JSON
    bool operator==(const SessionReply&) const = default;
};

//! How the server ended an HTTP session: a WebSocket-style close code and its reason.
struct CloseEvent {
    int code = 1006;
    std::string reason;
    bool operator==(const CloseEvent&) const = default;
};

//! The answer to `GET /v1/poll`: the frames after the poll's cursor, in order, numbered so that
//! the last one has `cursor`; `closed` once the session has ended.
struct PollBatch {
    std::vector<std::string> events; //!< frames, compact JSON
    std::uint64_t cursor = 0;
    std::optional<CloseEvent> closed;
    //! The cursor of events.front() (events are consecutive up to `cursor`).
    std::uint64_t firstCursor() const { return cursor + 1 - events.size(); }
    bool operator==(const PollBatch&) const = default;
};

//! An HTTP error answer's body: `{"error":"<code>","message":"..."}`, or an `error` frame
//! (`{"type":"error","code":...,"message":...}`) where the request carried a frame.
struct HttpError {
    std::string code;
    std::string message;
    bool operator==(const HttpError&) const = default;
};

struct EnvelopeLimits {
    std::size_t maxBytes = 16 * 1024 * 1024; //!< an envelope larger than this is refused
    std::size_t maxFrames = 10000; //!< frames in one poll batch or commands batch
};

std::string encodeSessionReply(const SessionReply& reply);
DecodeResult<SessionReply> decodeSessionReply(std::string_view bytes, const EnvelopeLimits& = {});

std::string encodeCloseEvent(const CloseEvent& close);
DecodeResult<CloseEvent> decodeCloseEvent(std::string_view bytes, const EnvelopeLimits& = {});

std::string encodePollBatch(const PollBatch& batch);
DecodeResult<PollBatch> decodePollBatch(std::string_view bytes, const EnvelopeLimits& = {});

//! Encodes the JSON form (`error`, `message`).
std::string encodeHttpError(const HttpError& error);
//! Decodes either form; an answer that is neither (an HTML page from a proxy) is a DecodeError.
DecodeResult<HttpError> decodeHttpError(std::string_view bytes, const EnvelopeLimits& = {});

//! A `POST /v1/commands` body: one frame object, or a JSON array of frame objects (a batch).
//! The encoder always writes the array form.
std::string encodeCommands(const std::vector<std::string>& frames);
DecodeResult<std::vector<std::string>> decodeCommands(
    std::string_view bytes, const EnvelopeLimits& = {});

} // namespace parley::protocol::http
