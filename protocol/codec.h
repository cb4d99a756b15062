// Parley wire protocol v1: encoding and decoding of frames.
//
// Contract:
// - decode*() never throws and never crashes, whatever the bytes: malformed JSON, wrong field
//   types, missing fields, unknown "type", oversize frames or strings all come back as a
//   DecodeError with a stable ErrorCode and a human-readable message.
// - encode() of a frame that decodes to itself round-trips: decode(encode(f)) == f.
// - Optional string fields that are empty are omitted on the wire; unknown fields are ignored on
//   decode (forward compatibility).
// - Thread-safe: no shared state.
#pragma once

#include "frames.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace parley::protocol {

//! Bounds checked while decoding. Defaults are the server's defaults.
struct DecodeLimits {
    std::size_t maxFrameBytes = 64 * 1024;
    std::size_t maxBodyBytes = 16 * 1024;
    std::size_t maxNameBytes = 64; //!< user, room, request id, client message id, epoch
    std::size_t maxTokenBytes = 4096;
    std::size_t maxResumeCursors = 1000;
    std::uint32_t maxHistoryLimit = 500;
};

//! Why a frame could not be decoded. `id` is the frame's request id and `clientId` the
//! `client_id` of a `send` or `direct`, each when it could be read (a string within the name
//! limit), whatever else is wrong with the frame: the error reply names the request and the
//! message it answers.
struct DecodeError {
    ErrorCode code = ErrorCode::BadFrame;
    std::string message;
    std::string id;
    std::string clientId;
    bool operator==(const DecodeError&) const = default;
};

//! Either a decoded value or the reason it could not be decoded.
template <typename T>
class DecodeResult {
public:
    DecodeResult(T value)
        : m_state(std::move(value))
    {
    }
    DecodeResult(DecodeError error)
        : m_state(std::move(error))
    {
    }

    bool ok() const { return std::holds_alternative<T>(m_state); }
    explicit operator bool() const { return ok(); }
    const T& value() const& { return std::get<T>(m_state); }
    T&& value() && { return std::get<T>(std::move(m_state)); }
    const DecodeError& error() const { return std::get<DecodeError>(m_state); }

private:
    std::variant<T, DecodeError> m_state;
};

//! Decodes a frame sent by a client (used by the server).
DecodeResult<ClientFrame> decodeClientFrame(std::string_view bytes, const DecodeLimits& limits = {});

//! Decodes a frame sent by a server (used by the SDK).
DecodeResult<ServerFrame> decodeServerFrame(std::string_view bytes, const DecodeLimits& limits = {});

//! Encodes a frame as one compact JSON object (no trailing newline).
std::string encode(const ClientFrame& frame);
std::string encode(const ServerFrame& frame);

//! The "type" string of a frame, as on the wire.
std::string_view frameType(const ClientFrame& frame);
std::string_view frameType(const ServerFrame& frame);

//! Stable wire name of an error code, e.g. "body_too_large".
std::string_view errorCodeName(ErrorCode code);

//! Inverse of errorCodeName(); nullopt for names this version does not know.
std::optional<ErrorCode> errorCodeFromName(std::string_view name);

//! Whether a client may retry the request that got this error (same request, later). False for
//! errors that the same request will always get again (bad input) and for Unauthorized.
bool isRetryable(ErrorCode code);

//! Room names: 1..64 bytes of [A-Za-z0-9._-]. User names: 1..64 bytes of [A-Za-z0-9._-].
//! A name field that is a string breaking these rules, in any way (empty, too long, another
//! character), gets one error per field: `bad_room` for a room, `unauthorized` for the user of
//! `hello`, `bad_frame` for the other user names (`direct.to`, `presence_query.users`). A name
//! field that is missing or not a string is `bad_frame`, like any other field.
bool isValidRoomName(std::string_view room);
bool isValidUserName(std::string_view user);

} // namespace parley::protocol
