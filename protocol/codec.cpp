#include "codec.h"
#include "nesting.h"

#include <algorithm>
#include <array>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>

namespace parley::protocol {

namespace {

// ordered_json keeps fields in the order written, so "type" comes first on the wire (readable
// logs, cheap sniffing). Frames have a handful of fields, so its linear lookup costs nothing.
using json = nlohmann::ordered_json;


struct ErrorName {
    ErrorCode code;
    std::string_view name;
    bool retryable;
};

constexpr std::array kErrorNames {
    ErrorName { ErrorCode::BadJson, "bad_json", false },
    ErrorName { ErrorCode::BadFrame, "bad_frame", false },
    ErrorName { ErrorCode::UnknownType, "unknown_type", false },
    ErrorName { ErrorCode::FrameTooLarge, "frame_too_large", false },
    ErrorName { ErrorCode::BodyTooLarge, "body_too_large", false },
    ErrorName { ErrorCode::EmptyBody, "empty_body", false },
    ErrorName { ErrorCode::BadRoom, "bad_room", false },
    ErrorName { ErrorCode::NotJoined, "not_joined", false },
    ErrorName { ErrorCode::TooManyRooms, "too_many_rooms", false },
    ErrorName { ErrorCode::HelloRequired, "hello_required", false },
    ErrorName { ErrorCode::AlreadyWelcomed, "already_welcomed", false },
    ErrorName { ErrorCode::Unauthorized, "unauthorized", false },
    ErrorName { ErrorCode::RateLimited, "rate_limited", true },
    ErrorName { ErrorCode::Overloaded, "overloaded", true },
    ErrorName { ErrorCode::Unavailable, "unavailable", true },
    ErrorName { ErrorCode::Internal, "internal", true },
    ErrorName { ErrorCode::UserOffline, "user_offline", false },
};

bool validName(std::string_view s)
{
    if (s.empty() || s.size() > 64) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '.' || c == '_' || c == '-';
    });
}

// Reads the fields of one JSON object, recording the first problem. Every accessor is a no-op
// once a problem was found, so decoders read straight through and check failed() once.
class FieldReader {
public:
    FieldReader(const json& object, const DecodeLimits& limits, std::string frameType)
        : m_object(object)
        , m_limits(limits)
        , m_type(std::move(frameType))
    {
    }

    bool failed() const { return m_error.has_value(); }
    DecodeError takeError(std::string id) &&
    {
        DecodeError error = std::move(*m_error);
        error.id = std::move(id);
        return error;
    }

    void fail(ErrorCode code, std::string message)
    {
        if (!m_error) {
            m_error = DecodeError { code, m_type + ": " + std::move(message), {}, {} };
        }
    }

    // An array of at most maxCount objects, each read by readOne(FieldReader&) through a reader
    // of its own; the first bad element fails this reader with that element's error.
    template <typename ReadOne>
    auto objects(const char* key, bool required, std::size_t maxCount, ReadOne readOne)
        -> std::vector<std::invoke_result_t<ReadOne, FieldReader&>>
    {
        std::vector<std::invoke_result_t<ReadOne, FieldReader&>> out;
        const json* elements = array(key, required);
        if (!elements) {
            return out;
        }
        if (elements->size() > maxCount) {
            fail(ErrorCode::BadFrame, std::string("too many ") + key);
            return out;
        }
        out.reserve(elements->size());
        for (const json& element : *elements) {
            if (!element.is_object()) {
                fail(ErrorCode::BadFrame, std::string(key) + " must be objects");
                break;
            }
            FieldReader reader(element, m_limits, m_type + "." + key);
            auto value = readOne(reader);
            if (reader.failed()) {
                m_error = std::move(reader.m_error);
                break;
            }
            out.push_back(std::move(value));
        }
        return out;
    }

    // A string field. Missing → "" unless required. maxBytes 0 means the name limit.
    std::string string(const char* key, bool required, std::size_t maxBytes = 0)
    {
        const json* field = find(key, required, &json::is_string, "a string");
        if (!field) {
            return {};
        }
        const auto& value = field->get_ref<const std::string&>();
        const std::size_t limit = maxBytes ? maxBytes : m_limits.maxNameBytes;
        if (value.size() > limit) {
            fail(ErrorCode::BadFrame,
                std::string("field '") + key + "' longer than " + std::to_string(limit) + " bytes");
            return {};
        }
        return value;
    }

    std::optional<std::uint64_t> unsignedNumber(const char* key, bool required)
    {
        const json* field
            = find(key, required, &json::is_number_unsigned, "a non-negative integer");
        return field ? std::optional(field->get<std::uint64_t>()) : std::nullopt;
    }

    std::int64_t signedNumber(const char* key, bool required)
    {
        const json* field = find(key, required, &json::is_number_integer, "an integer");
        return field ? field->get<std::int64_t>() : 0;
    }

    bool boolean(const char* key, bool required)
    {
        const json* field = find(key, required, &json::is_boolean, "true or false");
        return field ? field->get<bool>() : false;
    }

    // An array field; missing → nullptr unless required.
    const json* array(const char* key, bool required)
    {
        return find(key, required, &json::is_array, "an array");
    }

    const json* object(const char* key, bool required)
    {
        return find(key, required, &json::is_object, "an object");
    }

    // A room name: too long is one of the ways to break the naming rules, so it is read
    // without the string limit and gets bad_room like the others.
    std::string room(const char* key = "room")
    {
        std::string value = string(key, true, std::numeric_limits<std::size_t>::max());
        if (!failed() && !validName(value)) {
            fail(ErrorCode::BadRoom,
                std::string("field '") + key + "' must be 1-64 characters of [A-Za-z0-9._-]");
        }
        return value;
    }

    std::uint32_t uint32(const char* key, bool required, std::uint32_t fallback)
    {
        const auto value = unsignedNumber(key, required);
        if (!value) {
            return fallback;
        }
        if (*value > std::numeric_limits<std::uint32_t>::max()) {
            fail(ErrorCode::BadFrame, std::string("field '") + key + "' out of range");
            return fallback;
        }
        return std::uint32_t(*value);
    }

    const DecodeLimits& limits() const { return m_limits; }
    const std::string& type() const { return m_type; }

private:
    // The one lookup every accessor shares: nullptr when a problem was already recorded, when the
    // field is absent or null (a problem only if required), or when `isExpectedType` rejects it.
    const json* find(const char* key, bool required, bool (json::*isExpectedType)() const noexcept,
        const char* expected)
    {
        if (failed()) {
            return nullptr;
        }
        const auto it = m_object.find(key);
        if (it == m_object.end() || it->is_null()) {
            if (required) {
                fail(ErrorCode::BadFrame, std::string("missing field '") + key + "'");
            }
            return nullptr;
        }
        if (!((*it).*isExpectedType)()) {
            fail(ErrorCode::BadFrame, std::string("field '") + key + "' must be " + expected);
            return nullptr;
        }
        return &*it;
    }

    const json& m_object;
    const DecodeLimits& m_limits;
    std::string m_type;
    std::optional<DecodeError> m_error;
};

template <typename Variant, typename Frame>
DecodeResult<Variant> finish(FieldReader&& reader, Frame&& frame, const std::string& id)
{
    if (reader.failed()) {
        return std::move(reader).takeError(id);
    }
    return Variant(std::in_place_type<std::decay_t<Frame>>, std::forward<Frame>(frame));
}

Cursor readCursor(FieldReader& r, const char* seqKey)
{
    Cursor cursor;
    cursor.epoch = r.string("epoch", false);
    cursor.seq = r.unsignedNumber(seqKey, true).value_or(0);
    return cursor;
}

Message readMessage(FieldReader& r)
{
    Message m;
    m.room = r.room();
    m.epoch = r.string("epoch", true);
    m.seq = r.unsignedNumber("seq", true).value_or(0);
    m.msgId = r.string("msg_id", true);
    m.sender = r.string("sender", true);
    m.clientId = r.string("client_id", false);
    m.body = r.string("body", true, r.limits().maxBodyBytes);
    m.ts = r.signedNumber("ts", true);
    return m;
}

// ----------------------------------------------------------------------------- client frames

DecodeResult<ClientFrame> decodeClientObject(
    const json& object, const std::string& type, std::string id, const DecodeLimits& limits)
{
    FieldReader r(object, limits, type);
    if (type == "hello") {
        Hello f;
        f.id = id;
        // Too long is one way of being a bad user name: read without the string limit, so it
        // gets unauthorized (and the close) like the others.
        f.user = r.string("user", true, std::numeric_limits<std::size_t>::max());
        if (!r.failed() && !validName(f.user)) {
            r.fail(ErrorCode::Unauthorized, "user must be 1-64 characters of [A-Za-z0-9._-]");
        }
        f.token = r.string("token", false, limits.maxTokenBytes);
        if (const json* resume = r.array("resume", false)) {
            if (resume->size() > limits.maxResumeCursors) {
                r.fail(ErrorCode::BadFrame, "too many resume cursors");
            }
            for (const json& element : *resume) {
                if (r.failed()) {
                    break;
                }
                if (!element.is_object()) {
                    r.fail(ErrorCode::BadFrame, "resume entries must be objects");
                    break;
                }
                FieldReader er(element, limits, "hello.resume");
                ResumeCursor cursor;
                cursor.room = er.room();
                cursor.cursor = readCursor(er, "seq");
                if (er.failed()) {
                    return std::move(er).takeError(id);
                }
                f.resume.push_back(std::move(cursor));
            }
        }
        return finish<ClientFrame>(std::move(r), std::move(f), id);
    }
    if (type == "join") {
        Join f { id, r.room() };
        return finish<ClientFrame>(std::move(r), std::move(f), id);
    }
    if (type == "leave") {
        Leave f { id, r.room() };
        return finish<ClientFrame>(std::move(r), std::move(f), id);
    }
    if (type == "send") {
        Send f;
        f.id = id;
        f.room = r.room();
        f.clientId = r.string("client_id", true);
        if (!r.failed() && f.clientId.empty()) {
            r.fail(ErrorCode::BadFrame, "field 'client_id' must not be empty");
        }
        // The body is read without the reader's length limit so an oversize body gets its own
        // error code rather than a generic bad_frame.
        f.body = r.string("body", true, std::numeric_limits<std::size_t>::max());
        if (!r.failed() && f.body.empty()) {
            r.fail(ErrorCode::EmptyBody, "body must not be empty");
        }
        if (!r.failed() && f.body.size() > limits.maxBodyBytes) {
            r.fail(ErrorCode::BodyTooLarge,
                "body exceeds " + std::to_string(limits.maxBodyBytes) + " bytes");
        }
        return finish<ClientFrame>(std::move(r), std::move(f), id);
    }
    if (type == "heartbeat") {
        return ClientFrame { Heartbeat { id } };
    }
    if (type == "history") {
        HistoryRequest f;
        f.id = id;
        f.room = r.room();
        f.beforeSeq = r.unsignedNumber("before", false);
        f.afterSeq = r.unsignedNumber("after", false);
        f.limit = r.uint32("limit", false, 50);
        if (!r.failed() && f.beforeSeq && f.afterSeq) {
            r.fail(ErrorCode::BadFrame, "give 'before' or 'after', not both");
        }
        if (!r.failed() && (f.limit == 0 || f.limit > limits.maxHistoryLimit)) {
            r.fail(
                ErrorCode::BadFrame, "limit must be 1.." + std::to_string(limits.maxHistoryLimit));
        }
        return finish<ClientFrame>(std::move(r), std::move(f), id);
    }
    if (type == "presence_query") {
        PresenceQuery f;
        f.id = id;
        if (const json* users = r.array("users", true)) {
            if (users->empty() || users->size() > kMaxPresenceQueryUsers) {
                r.fail(ErrorCode::BadFrame,
                    "users must list 1.." + std::to_string(kMaxPresenceQueryUsers) + " names");
            }
            for (const json& user : *users) {
                if (r.failed()) {
                    break;
                }
                if (!user.is_string() || !validName(user.get_ref<const std::string&>())) {
                    r.fail(ErrorCode::BadFrame, "users must be user names");
                    break;
                }
                f.users.push_back(user.get<std::string>());
            }
        }
        return finish<ClientFrame>(std::move(r), std::move(f), id);
    }
    if (type == "direct") {
        Direct f;
        f.id = id;
        f.to = r.string("to", true);
        if (!r.failed() && !validName(f.to)) {
            r.fail(ErrorCode::BadFrame, "field 'to' must be a user name");
        }
        f.clientId = r.string("client_id", true);
        if (!r.failed() && f.clientId.empty()) {
            r.fail(ErrorCode::BadFrame, "field 'client_id' must not be empty");
        }
        f.body = r.string("body", true, std::numeric_limits<std::size_t>::max());
        if (!r.failed() && f.body.empty()) {
            r.fail(ErrorCode::EmptyBody, "body must not be empty");
        }
        if (!r.failed() && f.body.size() > limits.maxBodyBytes) {
            r.fail(ErrorCode::BodyTooLarge,
                "body exceeds " + std::to_string(limits.maxBodyBytes) + " bytes");
        }
        return finish<ClientFrame>(std::move(r), std::move(f), id);
    }
    return DecodeError { ErrorCode::UnknownType, "unknown frame type '" + type + "'", id, {} };
}

UserPresence readUserPresence(FieldReader& r)
{
    UserPresence p;
    p.user = r.string("user", true);
    p.online = r.boolean("online", true);
    return p;
}

// ----------------------------------------------------------------------------- server frames

DecodeResult<ServerFrame> decodeServerObject(
    const json& object, const std::string& type, std::string id, const DecodeLimits& limits)
{
    FieldReader r(object, limits, type);
    if (type == "welcome") {
        Welcome f;
        f.id = id;
        f.session = r.string("session", true);
        f.node = r.string("node", true);
        f.user = r.string("user", true);
        f.heartbeatMs = r.uint32("heartbeat_ms", true, 30000);
        f.protocol = int(r.uint32("protocol", true, kProtocolVersion));
        if (const json* l = r.object("limits", false)) {
            FieldReader lr(*l, limits, "welcome.limits");
            f.limits.maxFrameBytes = lr.uint32("max_frame_bytes", false, f.limits.maxFrameBytes);
            f.limits.maxBodyBytes = lr.uint32("max_body_bytes", false, f.limits.maxBodyBytes);
            f.limits.maxRooms = lr.uint32("max_rooms", false, f.limits.maxRooms);
            f.limits.maxHistoryLimit
                = lr.uint32("max_history_limit", false, f.limits.maxHistoryLimit);
            if (lr.failed()) {
                return std::move(lr).takeError(id);
            }
        }
        return finish<ServerFrame>(std::move(r), std::move(f), id);
    }
    if (type == "joined") {
        Joined f;
        f.id = id;
        f.room = r.room();
        f.cursor = readCursor(r, "last_seq");
        if (const json* members = r.array("members", false)) {
            for (const json& m : *members) {
                if (!m.is_string()
                    || m.get_ref<const std::string&>().size() > limits.maxNameBytes) {
                    r.fail(ErrorCode::BadFrame, "members must be user names");
                    break;
                }
                f.members.push_back(m.get<std::string>());
            }
        }
        return finish<ServerFrame>(std::move(r), std::move(f), id);
    }
    if (type == "left") {
        Left f { id, r.room() };
        return finish<ServerFrame>(std::move(r), std::move(f), id);
    }
    if (type == "message") {
        Message f = readMessage(r);
        return finish<ServerFrame>(std::move(r), std::move(f), id);
    }
    if (type == "ack") {
        Ack f;
        f.id = id;
        f.clientId = r.string("client_id", true);
        f.room = r.room();
        f.epoch = r.string("epoch", true);
        f.seq = r.unsignedNumber("seq", true).value_or(0);
        f.msgId = r.string("msg_id", true);
        f.ts = r.signedNumber("ts", true);
        f.duplicate = r.boolean("duplicate", false);
        return finish<ServerFrame>(std::move(r), std::move(f), id);
    }
    if (type == "recovered") {
        Recovered f;
        f.room = r.room();
        f.cursor = readCursor(r, "seq");
        f.recovered = r.boolean("recovered", true);
        f.epochChanged = r.boolean("epoch_changed", false);
        f.cursorAhead = r.boolean("cursor_ahead", false);
        f.missingFrom = r.unsignedNumber("missing_from", false).value_or(0);
        f.missingTo = r.unsignedNumber("missing_to", false).value_or(0);
        return finish<ServerFrame>(std::move(r), std::move(f), id);
    }
    if (type == "history_page") {
        HistoryPage f;
        f.id = id;
        f.room = r.room();
        f.epoch = r.string("epoch", true);
        f.hasMore = r.boolean("has_more", false);
        f.messages = r.objects("messages", true, std::numeric_limits<std::size_t>::max(),
            [](FieldReader& mr) { return readMessage(mr); });
        return finish<ServerFrame>(std::move(r), std::move(f), id);
    }
    if (type == "heartbeat_ack") {
        HeartbeatAck f { id, r.signedNumber("ts", false) };
        return finish<ServerFrame>(std::move(r), std::move(f), id);
    }
    if (type == "presence") {
        Presence f;
        f.room = r.room();
        f.user = r.string("user", true);
        f.online = r.boolean("online", true);
        return finish<ServerFrame>(std::move(r), std::move(f), id);
    }
    if (type == "user_presence") {
        UserPresence f = readUserPresence(r);
        return finish<ServerFrame>(std::move(r), std::move(f), id);
    }
    if (type == "presence_state") {
        PresenceState f;
        f.id = id;
        f.users = r.objects("users", true, kMaxPresenceQueryUsers,
            [](FieldReader& ur) { return readUserPresence(ur); });
        return finish<ServerFrame>(std::move(r), std::move(f), id);
    }
    if (type == "direct_message") {
        DirectMessage f;
        f.from = r.string("from", true);
        f.to = r.string("to", true);
        f.clientId = r.string("client_id", false);
        f.msgId = r.string("msg_id", true);
        f.body = r.string("body", true, limits.maxBodyBytes);
        f.ts = r.signedNumber("ts", true);
        return finish<ServerFrame>(std::move(r), std::move(f), id);
    }
    if (type == "direct_ack") {
        DirectAck f;
        f.id = id;
        f.clientId = r.string("client_id", true);
        f.to = r.string("to", true);
        f.msgId = r.string("msg_id", true);
        f.ts = r.signedNumber("ts", true);
        return finish<ServerFrame>(std::move(r), std::move(f), id);
    }
    if (type == "error") {
        Error f;
        f.id = id;
        const std::string code = r.string("code", true);
        f.message = r.string("message", false, 4096);
        f.clientId = r.string("client_id", false);
        if (!r.failed()) {
            // An error code from a newer server is still an error: map it to Internal (retryable)
            // rather than dropping the frame.
            f.code = errorCodeFromName(code).value_or(ErrorCode::Internal);
        }
        return finish<ServerFrame>(std::move(r), std::move(f), id);
    }
    return DecodeError { ErrorCode::UnknownType, "unknown frame type '" + type + "'", id, {} };
}

// The `client_id` of a frame that carries one (`send`, `direct`), when it is a usable string:
// the error answering a rejected frame still names its message.
std::string echoedClientId(const json& object)
{
    const auto type = object.find("type");
    if (type == object.end() || !type->is_string()
        || (type->get_ref<const std::string&>() != "send"
            && type->get_ref<const std::string&>() != "direct")) {
        return {};
    }
    const auto it = object.find("client_id");
    if (it == object.end() || !it->is_string()) {
        return {};
    }
    return it->get<std::string>();
}

// Common envelope handling: size, nesting, JSON, object, "type", "id".
template <typename Frame, typename DecodeObject>
DecodeResult<Frame> decodeEnvelope(std::string_view bytes, const DecodeLimits& limits,
    DecodeObject decodeObject, bool echoClientId)
{
    if (bytes.size() > limits.maxFrameBytes) {
        return DecodeError { ErrorCode::FrameTooLarge,
            "frame of " + std::to_string(bytes.size()) + " bytes exceeds "
                + std::to_string(limits.maxFrameBytes),
            {}, {} };
    }
    if (!detail::nestingWithin(bytes, detail::kMaxFrameNesting)) {
        return DecodeError { ErrorCode::BadJson, "JSON nested too deeply", {}, {} };
    }
    const json parsed = json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (parsed.is_discarded()) {
        return DecodeError { ErrorCode::BadJson, "not valid JSON", {}, {} };
    }
    if (!parsed.is_object()) {
        return DecodeError { ErrorCode::BadJson, "a frame must be a JSON object", {}, {} };
    }
    // From here on the frame is an object: whatever is wrong with it, the error carries the
    // client_id it names (if usable) as well as its id.
    auto withClientId = [&](DecodeError error) {
        if (echoClientId && error.clientId.empty()) {
            std::string clientId = echoedClientId(parsed);
            if (!clientId.empty() && clientId.size() <= limits.maxNameBytes) {
                error.clientId = std::move(clientId);
            }
        }
        return error;
    };
    std::string id;
    if (const auto it = parsed.find("id"); it != parsed.end() && !it->is_null()) {
        if (!it->is_string() || it->get_ref<const std::string&>().size() > limits.maxNameBytes) {
            return withClientId(DecodeError { ErrorCode::BadFrame,
                "field 'id' must be a string of at most " + std::to_string(limits.maxNameBytes)
                    + " bytes",
                {}, {} });
        }
        id = it->get<std::string>();
    }
    const auto typeIt = parsed.find("type");
    if (typeIt == parsed.end()) {
        return DecodeError { ErrorCode::BadFrame, "missing field 'type'", id, {} };
    }
    if (!typeIt->is_string()) {
        return DecodeError { ErrorCode::BadFrame, "field 'type' must be a string", id, {} };
    }
    DecodeResult<Frame> result
        = decodeObject(parsed, typeIt->get<std::string>(), std::move(id), limits);
    if (!result.ok()) {
        return withClientId(result.error());
    }
    return result;
}

// ----------------------------------------------------------------------------- encoding

void putId(json& j, const std::string& id)
{
    if (!id.empty()) {
        j["id"] = id;
    }
}

json messageJson(const Message& m)
{
    json j { { "room", m.room }, { "epoch", m.epoch }, { "seq", m.seq }, { "msg_id", m.msgId },
        { "sender", m.sender } };
    if (!m.clientId.empty()) {
        j["client_id"] = m.clientId;
    }
    j["body"] = m.body;
    j["ts"] = m.ts;
    return j;
}

struct ClientEncoder {
    json operator()(const Hello& f) const
    {
        json j { { "type", "hello" } };
        putId(j, f.id);
        j["user"] = f.user;
        if (!f.token.empty()) {
            j["token"] = f.token;
        }
        if (!f.resume.empty()) {
            json resume = json::array();
            for (const auto& c : f.resume) {
                json entry { { "room", c.room } };
                if (!c.cursor.epoch.empty()) {
                    entry["epoch"] = c.cursor.epoch;
                }
                entry["seq"] = c.cursor.seq;
                resume.push_back(std::move(entry));
            }
            j["resume"] = std::move(resume);
        }
        return j;
    }
    json operator()(const Join& f) const { return roomFrame("join", f.id, f.room); }
    json operator()(const Leave& f) const { return roomFrame("leave", f.id, f.room); }
    json operator()(const Send& f) const
    {
        json j = roomFrame("send", f.id, f.room);
        j["client_id"] = f.clientId;
        j["body"] = f.body;
        return j;
    }
    json operator()(const Heartbeat& f) const
    {
        json j { { "type", "heartbeat" } };
        putId(j, f.id);
        return j;
    }
    json operator()(const HistoryRequest& f) const
    {
        json j = roomFrame("history", f.id, f.room);
        if (f.beforeSeq) {
            j["before"] = *f.beforeSeq;
        }
        if (f.afterSeq) {
            j["after"] = *f.afterSeq;
        }
        j["limit"] = f.limit;
        return j;
    }
    json operator()(const Direct& f) const
    {
        json j { { "type", "direct" } };
        putId(j, f.id);
        j["to"] = f.to;
        j["client_id"] = f.clientId;
        j["body"] = f.body;
        return j;
    }
    json operator()(const PresenceQuery& f) const
    {
        json j { { "type", "presence_query" } };
        putId(j, f.id);
        j["users"] = f.users;
        return j;
    }

    static json roomFrame(const char* type, const std::string& id, const std::string& room)
    {
        json j { { "type", type } };
        putId(j, id);
        j["room"] = room;
        return j;
    }
};

struct ServerEncoder {
    json operator()(const Welcome& f) const
    {
        json j { { "type", "welcome" } };
        putId(j, f.id);
        j["session"] = f.session;
        j["node"] = f.node;
        j["user"] = f.user;
        j["heartbeat_ms"] = f.heartbeatMs;
        j["protocol"] = f.protocol;
        j["limits"] = json { { "max_frame_bytes", f.limits.maxFrameBytes },
            { "max_body_bytes", f.limits.maxBodyBytes }, { "max_rooms", f.limits.maxRooms },
            { "max_history_limit", f.limits.maxHistoryLimit } };
        return j;
    }
    json operator()(const Joined& f) const
    {
        json j { { "type", "joined" } };
        putId(j, f.id);
        j["room"] = f.room;
        j["epoch"] = f.cursor.epoch;
        j["last_seq"] = f.cursor.seq;
        j["members"] = f.members;
        return j;
    }
    json operator()(const Left& f) const
    {
        json j { { "type", "left" } };
        putId(j, f.id);
        j["room"] = f.room;
        return j;
    }
    json operator()(const Message& f) const
    {
        json j = messageJson(f);
        j["type"] = "message";
        return j;
    }
    json operator()(const Ack& f) const
    {
        json j { { "type", "ack" } };
        putId(j, f.id);
        j["client_id"] = f.clientId;
        j["room"] = f.room;
        j["epoch"] = f.epoch;
        j["seq"] = f.seq;
        j["msg_id"] = f.msgId;
        j["ts"] = f.ts;
        if (f.duplicate) {
            j["duplicate"] = true;
        }
        return j;
    }
    json operator()(const Recovered& f) const
    {
        json j { { "type", "recovered" }, { "room", f.room }, { "epoch", f.cursor.epoch },
            { "seq", f.cursor.seq }, { "recovered", f.recovered } };
        if (f.epochChanged) {
            j["epoch_changed"] = true;
        }
        if (f.cursorAhead) {
            j["cursor_ahead"] = true;
        }
        if (!f.recovered && !f.epochChanged && !f.cursorAhead) {
            j["missing_from"] = f.missingFrom;
            j["missing_to"] = f.missingTo;
        }
        return j;
    }
    json operator()(const HistoryPage& f) const
    {
        json j { { "type", "history_page" } };
        putId(j, f.id);
        j["room"] = f.room;
        j["epoch"] = f.epoch;
        json messages = json::array();
        for (const auto& m : f.messages) {
            messages.push_back(messageJson(m));
        }
        j["messages"] = std::move(messages);
        j["has_more"] = f.hasMore;
        return j;
    }
    json operator()(const HeartbeatAck& f) const
    {
        json j { { "type", "heartbeat_ack" } };
        putId(j, f.id);
        j["ts"] = f.ts;
        return j;
    }
    json operator()(const Presence& f) const
    {
        return json { { "type", "presence" }, { "room", f.room }, { "user", f.user },
            { "online", f.online } };
    }
    json operator()(const Error& f) const
    {
        json j { { "type", "error" } };
        putId(j, f.id);
        j["code"] = errorCodeName(f.code);
        j["message"] = f.message;
        j["retryable"] = isRetryable(f.code);
        if (!f.clientId.empty()) {
            j["client_id"] = f.clientId;
        }
        return j;
    }
    json operator()(const UserPresence& f) const
    {
        return json { { "type", "user_presence" }, { "user", f.user }, { "online", f.online } };
    }
    json operator()(const DirectMessage& f) const
    {
        json j { { "type", "direct_message" }, { "from", f.from }, { "to", f.to } };
        if (!f.clientId.empty()) {
            j["client_id"] = f.clientId;
        }
        j["msg_id"] = f.msgId;
        j["body"] = f.body;
        j["ts"] = f.ts;
        return j;
    }
    json operator()(const DirectAck& f) const
    {
        json j { { "type", "direct_ack" } };
        putId(j, f.id);
        j["client_id"] = f.clientId;
        j["to"] = f.to;
        j["msg_id"] = f.msgId;
        j["ts"] = f.ts;
        return j;
    }
    json operator()(const PresenceState& f) const
    {
        json j { { "type", "presence_state" } };
        putId(j, f.id);
        json users = json::array();
        for (const UserPresence& p : f.users) {
            users.push_back(json { { "user", p.user }, { "online", p.online } });
        }
        j["users"] = std::move(users);
        return j;
    }
};

// The wire names of frame types, in variant order.
constexpr std::array<std::string_view, std::variant_size_v<ClientFrame>> kClientTypes { "hello",
    "join", "leave", "send", "heartbeat", "history", "presence_query", "direct" };
constexpr std::array<std::string_view, std::variant_size_v<ServerFrame>> kServerTypes { "welcome",
    "joined", "left", "message", "ack", "recovered", "history_page", "heartbeat_ack", "presence",
    "error", "user_presence", "presence_state", "direct_message", "direct_ack" };

std::string dump(const json& j)
{
    // Invalid UTF-8 in a string must not throw out of encode(): replace it.
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

DecodeResult<ClientFrame> decodeClientFrame(std::string_view bytes, const DecodeLimits& limits)
{
    return decodeEnvelope<ClientFrame>(bytes, limits, decodeClientObject, true);
}

DecodeResult<ServerFrame> decodeServerFrame(std::string_view bytes, const DecodeLimits& limits)
{
    return decodeEnvelope<ServerFrame>(bytes, limits, decodeServerObject, false);
}

std::string encode(const ClientFrame& frame)
{
    return dump(std::visit(ClientEncoder {}, frame));
}

std::string encode(const ServerFrame& frame)
{
    return dump(std::visit(ServerEncoder {}, frame));
}

std::string_view frameType(const ClientFrame& frame)
{
    return kClientTypes[frame.index()];
}

std::string_view frameType(const ServerFrame& frame)
{
    return kServerTypes[frame.index()];
}

std::string_view errorCodeName(ErrorCode code)
{
    for (const auto& entry : kErrorNames) {
        if (entry.code == code) {
            return entry.name;
        }
    }
    return "internal";
}

std::optional<ErrorCode> errorCodeFromName(std::string_view name)
{
    for (const auto& entry : kErrorNames) {
        if (entry.name == name) {
            return entry.code;
        }
    }
    return std::nullopt;
}

bool isRetryable(ErrorCode code)
{
    for (const auto& entry : kErrorNames) {
        if (entry.code == code) {
            return entry.retryable;
        }
    }
    return true;
}

bool isValidRoomName(std::string_view room)
{
    return validName(room);
}

bool isValidUserName(std::string_view user)
{
    return validName(user);
}

} // namespace parley::protocol
