#include "envelopes.h"
#include "nesting.h"

#include <limits>
#include <nlohmann/json.hpp>

namespace parley::protocol::http {

// ordered_json keeps a frame's members in the order they were sent, so a frame taken out of
// an array re-serialises to the bytes it had.
using json = nlohmann::ordered_json;

namespace {

DecodeError fail(ErrorCode code, std::string message)
{
    return DecodeError { code, std::move(message), {}, {} };
}

//! Parses `bytes` as one JSON value; nullopt (and `error`) if it is not JSON or too large.
std::optional<json> parse(std::string_view bytes, const EnvelopeLimits& limits, DecodeError& error)
{
    if (bytes.size() > limits.maxBytes) {
        error = fail(ErrorCode::FrameTooLarge, "envelope exceeds " + std::to_string(limits.maxBytes)
                + " bytes");
        return std::nullopt;
    }
    if (!detail::nestingWithin(bytes, detail::kMaxEnvelopeNesting)) {
        error = fail(ErrorCode::BadJson, "JSON nested too deeply");
        return std::nullopt;
    }
    json value = json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (value.is_discarded()) {
        error = fail(ErrorCode::BadJson, "not valid JSON");
        return std::nullopt;
    }
    return value;
}

std::string compact(const json& value)
{
    // Replaces invalid UTF-8 rather than throwing (parse() accepted only valid UTF-8 anyway).
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool isUnsigned(const json& value)
{
    return value.is_number_unsigned() || (value.is_number_integer() && value.get<std::int64_t>() >= 0);
}

std::optional<CloseEvent> closeFrom(const json& value)
{
    if (!value.is_object()) {
        return std::nullopt;
    }
    const auto code = value.find("code");
    if (code == value.end() || !code->is_number_integer()) {
        return std::nullopt;
    }
    const std::int64_t n = code->get<std::int64_t>();
    if (n < 1000 || n > 4999) {
        return std::nullopt;
    }
    CloseEvent close;
    close.code = int(n);
    if (const auto reason = value.find("reason"); reason != value.end()) {
        if (!reason->is_string()) {
            return std::nullopt;
        }
        close.reason = reason->get<std::string>();
    }
    return close;
}

json closeJson(const CloseEvent& close)
{
    return json { { "code", close.code }, { "reason", close.reason } };
}

} // namespace

std::string encodeSessionReply(const SessionReply& reply)
{
    // The welcome frame is embedded as it is: it is already compact JSON from the frame codec.
    return R"({"session":)" + compact(reply.session) + R"(,"token":)" + compact(reply.token)
        + R"(,"cursor":)" + std::to_string(reply.cursor) + R"(,"welcome":)" + reply.welcome + "}";
}

DecodeResult<SessionReply> decodeSessionReply(std::string_view bytes, const EnvelopeLimits& limits)
{
    DecodeError error;
    const std::optional<json> value = parse(bytes, limits, error);
    if (!value) {
        return error;
    }
    if (!value->is_object()) {
        return fail(ErrorCode::BadJson, "session reply is not an object");
    }
    const auto session = value->find("session");
    const auto token = value->find("token");
    const auto cursor = value->find("cursor");
    const auto welcome = value->find("welcome");
    if (session == value->end() || !session->is_string() || token == value->end()
        || !token->is_string() || token->get_ref<const std::string&>().empty()) {
        return fail(ErrorCode::BadFrame, "session reply without session and token");
    }
    if (cursor == value->end() || !isUnsigned(*cursor)) {
        return fail(ErrorCode::BadFrame, "session reply without a cursor");
    }
    if (welcome == value->end() || !welcome->is_object()) {
        return fail(ErrorCode::BadFrame, "session reply without a welcome frame");
    }
    SessionReply reply;
    reply.session = session->get<std::string>();
    reply.token = token->get<std::string>();
    reply.cursor = cursor->get<std::uint64_t>();
    reply.welcome = compact(*welcome);
    return reply;
}

std::string encodeHttpError(const HttpError& error)
{
    return compact(json { { "error", error.code }, { "message", error.message } });
}

DecodeResult<HttpError> decodeHttpError(std::string_view bytes, const EnvelopeLimits& limits)
{
    DecodeError error;
    const std::optional<json> value = parse(bytes, limits, error);
    if (!value) {
        return error;
    }
    if (!value->is_object()) {
        return fail(ErrorCode::BadJson, "error answer is not an object");
    }
    const auto type = value->find("type");
    const bool frame = type != value->end() && type->is_string() && *type == "error";
    const auto code = value->find(frame ? "code" : "error");
    if (code == value->end() || !code->is_string()) {
        return fail(ErrorCode::BadFrame, "error answer without a code");
    }
    HttpError answer;
    answer.code = code->get<std::string>();
    if (const auto message = value->find("message"); message != value->end()) {
        if (!message->is_string()) {
            return fail(ErrorCode::BadFrame, "error answer with a message that is not a string");
        }
        answer.message = message->get<std::string>();
    }
    return answer;
}

std::string encodeCloseEvent(const CloseEvent& close)
{
    return compact(closeJson(close));
}

DecodeResult<CloseEvent> decodeCloseEvent(std::string_view bytes, const EnvelopeLimits& limits)
{
    DecodeError error;
    const std::optional<json> value = parse(bytes, limits, error);
    if (!value) {
        return error;
    }
    if (std::optional<CloseEvent> close = closeFrom(*value)) {
        return *std::move(close);
    }
    return fail(ErrorCode::BadFrame, "close event needs a code in 1000..4999 and a string reason");
}

std::string encodePollBatch(const PollBatch& batch)
{
    std::string body = R"({"events":[)";
    for (std::size_t i = 0; i < batch.events.size(); ++i) {
        if (i > 0) {
            body += ',';
        }
        body += batch.events[i]; // compact JSON already: copied, not re-serialised
    }
    body += R"(],"cursor":)" + std::to_string(batch.cursor);
    if (batch.closed) {
        body += R"(,"closed":)" + encodeCloseEvent(*batch.closed);
    }
    body += '}';
    return body;
}

DecodeResult<PollBatch> decodePollBatch(std::string_view bytes, const EnvelopeLimits& limits)
{
    DecodeError error;
    const std::optional<json> value = parse(bytes, limits, error);
    if (!value) {
        return error;
    }
    if (!value->is_object()) {
        return fail(ErrorCode::BadJson, "poll answer is not an object");
    }
    const auto cursor = value->find("cursor");
    if (cursor == value->end() || !isUnsigned(*cursor)) {
        return fail(ErrorCode::BadFrame, "poll answer without a cursor");
    }
    PollBatch batch;
    batch.cursor = cursor->get<std::uint64_t>();
    if (const auto events = value->find("events"); events != value->end()) {
        if (!events->is_array()) {
            return fail(ErrorCode::BadFrame, "poll events must be an array");
        }
        if (events->size() > limits.maxFrames) {
            return fail(ErrorCode::FrameTooLarge, "poll answer carries too many frames");
        }
        // The events end at `cursor`: there cannot be more of them than cursors before it.
        if (events->size() > batch.cursor) {
            return fail(ErrorCode::BadFrame, "poll answer has more events than its cursor allows");
        }
        batch.events.reserve(events->size());
        for (const json& event : *events) {
            if (!event.is_object()) {
                return fail(ErrorCode::BadFrame, "every poll event must be a frame object");
            }
            batch.events.push_back(compact(event));
        }
    }
    if (const auto closed = value->find("closed"); closed != value->end()) {
        batch.closed = closeFrom(*closed);
        if (!batch.closed) {
            return fail(ErrorCode::BadFrame, "poll close needs a code in 1000..4999");
        }
    }
    return batch;
}

std::string encodeCommands(const std::vector<std::string>& frames)
{
    std::string body = "[";
    for (std::size_t i = 0; i < frames.size(); ++i) {
        if (i > 0) {
            body += ',';
        }
        body += frames[i];
    }
    body += ']';
    return body;
}

DecodeResult<std::vector<std::string>> decodeCommands(
    std::string_view bytes, const EnvelopeLimits& limits)
{
    const auto first = bytes.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
        return fail(ErrorCode::BadJson, "the body must be a frame or an array");
    }
    const auto last = bytes.find_last_not_of(" \t\r\n");
    const std::string_view body = bytes.substr(first, last - first + 1);
    if (body.front() == '{') {
        // One frame: passed on verbatim, the frame codec decodes (and judges) it.
        return std::vector<std::string> { std::string(body) };
    }
    if (body.front() != '[') {
        return fail(ErrorCode::BadJson, "the body must be a frame or an array");
    }
    DecodeError error;
    const std::optional<json> value = parse(body, limits, error);
    if (!value) {
        return fail(error.code == ErrorCode::BadJson ? ErrorCode::BadJson : error.code,
            error.code == ErrorCode::BadJson ? "the batch is not a JSON array" : error.message);
    }
    if (value->size() > limits.maxFrames) {
        return fail(ErrorCode::FrameTooLarge, "the batch carries too many frames");
    }
    std::vector<std::string> frames;
    frames.reserve(value->size());
    for (const json& frame : *value) {
        if (!frame.is_object()) {
            return fail(ErrorCode::BadFrame, "every batch element must be a frame object");
        }
        frames.push_back(compact(frame));
    }
    return frames;
}

} // namespace parley::protocol::http
