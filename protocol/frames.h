// Parley wire protocol v1: the typed frames.
//
// Every frame on the wire is one JSON object with a "type" field. These structs are the decoded
// form; codec.h turns bytes into them and back. Nothing here knows about sockets, Qt or the
// transport that carries the frame (WebSocket text frame, SSE event, long-poll array element):
// the same envelopes travel over all of them. docs/protocol.md is the human-readable contract and
// must match this file.
//
// Strings are UTF-8 std::string so the codec stays free of Qt and cheap to fuzz.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace parley::protocol {

//! Protocol version spoken by this codec; sent in `welcome`.
inline constexpr int kProtocolVersion = 1;

//! A position in one room's stream. `epoch` names the stream (it changes only if the room's
//! history is lost or reset); `seq` is the last sequence number seen, 0 for "nothing yet".
struct Cursor {
    std::string epoch;
    std::uint64_t seq = 0;
    bool operator==(const Cursor&) const = default;
};

//! A resume cursor carried by `hello`: "I have room R up to this position".
struct ResumeCursor {
    std::string room;
    Cursor cursor;
    bool operator==(const ResumeCursor&) const = default;
};

// ---------------------------------------------------------------------------------------------
// Client -> server. `id` is an optional request id chosen by the client (at most 64 bytes); every
// reply that answers the request (welcome, joined, left, ack, history_page, heartbeat_ack, error)
// carries the same `id`.

struct Hello {
    std::string id;
    std::string user;
    std::string token;
    std::vector<ResumeCursor> resume;
    bool operator==(const Hello&) const = default;
};

struct Join {
    std::string id;
    std::string room;
    bool operator==(const Join&) const = default;
};

struct Leave {
    std::string id;
    std::string room;
    bool operator==(const Leave&) const = default;
};

struct Send {
    std::string id;
    std::string room;
    std::string clientId; //!< client message id; (user, clientId) identifies a message for dedupe
    std::string body;
    bool operator==(const Send&) const = default;
};

struct Heartbeat {
    std::string id;
    bool operator==(const Heartbeat&) const = default;
};

//! Page of history. With `beforeSeq` set: the newest `limit` messages with seq < beforeSeq.
//! With `afterSeq` set: the oldest `limit` messages with seq > afterSeq. With neither: the newest
//! `limit` messages. Both set is a bad_frame error.
struct HistoryRequest {
    std::string id;
    std::string room;
    std::optional<std::uint64_t> beforeSeq;
    std::optional<std::uint64_t> afterSeq;
    std::uint32_t limit = 50;
    bool operator==(const HistoryRequest&) const = default;
};

//! Names a `presence_query` may ask about at once.
inline constexpr std::size_t kMaxPresenceQueryUsers = 100;

//! Which of `users` are online (any session alive, on any node). Answered by `presence_state`.
struct PresenceQuery {
    std::string id;
    std::vector<std::string> users; //!< 1..kMaxPresenceQueryUsers valid user names
    bool operator==(const PresenceQuery&) const = default;
};

//! A message to one user rather than to a room: delivered to every session of `to` that is
//! online at that moment, on any node; not stored. Answered by `direct_ack` or an error
//! (`user_offline` when `to` has no live session).
struct Direct {
    std::string id;
    std::string to;
    std::string clientId; //!< chosen by the sender, echoed to the recipient and in the ack
    std::string body;
    bool operator==(const Direct&) const = default;
};

using ClientFrame
    = std::variant<Hello, Join, Leave, Send, Heartbeat, HistoryRequest, PresenceQuery, Direct>;

// ---------------------------------------------------------------------------------------------
// Server -> client.

//! Limits the server enforces, announced in `welcome` so clients can check before sending.
struct ServerLimits {
    std::uint32_t maxFrameBytes = 64 * 1024;
    std::uint32_t maxBodyBytes = 16 * 1024;
    std::uint32_t maxRooms = 100;
    std::uint32_t maxHistoryLimit = 500;
    bool operator==(const ServerLimits&) const = default;
};

struct Welcome {
    std::string id;
    std::string session;
    std::string node;
    std::string user;
    std::uint32_t heartbeatMs = 30000;
    int protocol = kProtocolVersion;
    ServerLimits limits;
    bool operator==(const Welcome&) const = default;
};

struct Joined {
    std::string id;
    std::string room;
    Cursor cursor; //!< epoch and the room's current last seq
    std::vector<std::string> members; //!< users currently in the room
    bool operator==(const Joined&) const = default;
};

struct Left {
    std::string id;
    std::string room;
    bool operator==(const Left&) const = default;
};

//! One chat message as stored and delivered. Also the element type of `history_page`.
struct Message {
    std::string room;
    std::string epoch;
    std::uint64_t seq = 0;
    std::string msgId; //!< server-assigned, unique
    std::string sender;
    std::string clientId;
    std::string body;
    std::int64_t ts = 0; //!< server time, milliseconds since the Unix epoch
    bool operator==(const Message&) const = default;
};

struct Ack {
    std::string id;
    std::string clientId;
    std::string room;
    std::string epoch;
    std::uint64_t seq = 0;
    std::string msgId;
    std::int64_t ts = 0;
    bool duplicate = false; //!< true when this answers a resend of an already stored message
    bool operator==(const Ack&) const = default;
};

//! End of the replay for one room after a `hello` with resume cursors. Sent after the missed
//! messages and before any live message of that room.
//! recovered == true: every message after the client's cursor was replayed.
//! recovered == false: `missingFrom..missingTo` (inclusive) could not be replayed (retention);
//! or `epochChanged` is true: the room's stream was reset (another epoch), the client's cursor is
//! meaningless; or `cursorAhead` is true: the cursor is of this epoch but past the room's last
//! seq (the server lost messages the client delivered, e.g. it was restored from an older copy):
//! the client restarts at `cursor`, and seqs after it are new messages even where they repeat
//! seqs it delivered before.
struct Recovered {
    std::string room;
    Cursor cursor; //!< the room's position after the replay
    bool recovered = true;
    bool epochChanged = false;
    std::uint64_t missingFrom = 0;
    std::uint64_t missingTo = 0;
    bool cursorAhead = false;
    bool operator==(const Recovered&) const = default;
};

struct HistoryPage {
    std::string id;
    std::string room;
    std::string epoch;
    std::vector<Message> messages; //!< ascending seq
    bool hasMore = false; //!< more messages exist beyond this page in the requested direction
    bool operator==(const HistoryPage&) const = default;
};

struct HeartbeatAck {
    std::string id;
    std::int64_t ts = 0;
    bool operator==(const HeartbeatAck&) const = default;
};

struct Presence {
    std::string room;
    std::string user;
    bool online = false;
    bool operator==(const Presence&) const = default;
};

//! A user's online state: an element of `presence_state`, and on its own the `user_presence`
//! event sent to the members of the user's rooms when the user comes online or goes offline.
struct UserPresence {
    std::string user;
    bool online = false;
    bool operator==(const UserPresence&) const = default;
};

//! The answer to `presence_query`: one entry per name asked, in the order asked.
struct PresenceState {
    std::string id;
    std::vector<UserPresence> users;
    bool operator==(const PresenceState&) const = default;
};

//! A direct message, as delivered to its recipient.
struct DirectMessage {
    std::string from;
    std::string to;
    std::string clientId;
    std::string msgId; //!< server-assigned, unique
    std::string body;
    std::int64_t ts = 0; //!< server time, milliseconds since the Unix epoch
    bool operator==(const DirectMessage&) const = default;
};

//! `direct` reached the recipient's node(s).
struct DirectAck {
    std::string id;
    std::string clientId;
    std::string to;
    std::string msgId;
    std::int64_t ts = 0;
    bool operator==(const DirectAck&) const = default;
};

//! Stable error codes. Their wire names (errorCodeName) never change meaning.
enum class ErrorCode {
    BadJson, //!< not valid JSON, or not a JSON object
    BadFrame, //!< a field is missing, of the wrong type or out of range
    UnknownType, //!< "type" names no frame of this protocol
    FrameTooLarge, //!< the frame exceeds maxFrameBytes
    BodyTooLarge, //!< `send.body` exceeds maxBodyBytes
    EmptyBody, //!< `send.body` is empty
    BadRoom, //!< room name empty, too long or with forbidden characters
    NotJoined, //!< send/history/leave for a room the session has not joined
    TooManyRooms, //!< the session already joined maxRooms rooms
    HelloRequired, //!< a frame other than hello before the session is welcomed
    AlreadyWelcomed, //!< a second hello on the same session
    Unauthorized, //!< bad user name or token (terminal: do not retry)
    RateLimited, //!< too many frames per second; retry later
    Overloaded, //!< the server sheds load (storage queue full); retry later
    Unavailable, //!< storage or cluster link down; retry later
    Internal, //!< a bug or unexpected failure on the server; retry later
    UserOffline, //!< `direct` to a user without a live session (not retried by the SDK)
};

struct Error {
    std::string id; //!< the request this error answers, when known
    ErrorCode code = ErrorCode::Internal;
    std::string message;
    std::string clientId; //!< for errors answering `send`: the message that failed
    bool operator==(const Error&) const = default;
};

using ServerFrame = std::variant<Welcome, Joined, Left, Message, Ack, Recovered, HistoryPage,
    HeartbeatAck, Presence, Error, UserPresence, PresenceState, DirectMessage, DirectAck>;

} // namespace parley::protocol
