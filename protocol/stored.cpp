#include "stored.h"
#include "nesting.h"

#include <charconv>
#include <nlohmann/json.hpp>

namespace parley::protocol::stored {

using nlohmann::json;

namespace {

DecodeError fail(ErrorCode code, std::string message)
{
    return DecodeError { code, std::move(message), {}, {} };
}

//! A decimal string or a non-negative JSON integer.
template <typename Int>
bool readNumber(const json& object, const char* key, Int& out)
{
    const auto it = object.find(key);
    if (it == object.end()) {
        return true;
    }
    if (it->is_number_integer()) {
        const auto value = it->get<std::int64_t>();
        if (value < 0) {
            return false;
        }
        out = Int(value);
        return true;
    }
    if (!it->is_string()) {
        return false;
    }
    const std::string& text = it->get_ref<const std::string&>();
    if (text.empty() || text.front() == '-') {
        return false;
    }
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc() && ptr == end;
}

bool readString(const json& object, const char* key, std::string& out)
{
    const auto it = object.find(key);
    if (it == object.end()) {
        return true;
    }
    if (!it->is_string()) {
        return false;
    }
    out = it->get<std::string>();
    return true;
}

} // namespace

std::string encodeMessage(const Message& message)
{
    const json j { { "r", message.room }, { "e", message.epoch },
        { "q", std::to_string(message.seq) }, { "i", message.msgId }, { "s", message.sender },
        { "c", message.clientId }, { "b", message.body }, { "t", std::to_string(message.ts) } };
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

DecodeResult<Message> decodeMessage(std::string_view bytes, std::size_t maxBytes)
{
    if (bytes.size() > maxBytes) {
        return fail(ErrorCode::FrameTooLarge, "stored message exceeds " + std::to_string(maxBytes)
                + " bytes");
    }
    if (!detail::nestingWithin(bytes, 1)) {
        return fail(ErrorCode::BadJson, "stored message is nested");
    }
    const json value = json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (value.is_discarded() || !value.is_object()) {
        return fail(ErrorCode::BadJson, "stored message is not a JSON object");
    }
    Message m;
    if (!readString(value, "r", m.room) || !readString(value, "e", m.epoch)
        || !readString(value, "i", m.msgId) || !readString(value, "s", m.sender)
        || !readString(value, "c", m.clientId) || !readString(value, "b", m.body)) {
        return fail(ErrorCode::BadFrame, "stored message field is not a string");
    }
    if (!readNumber(value, "q", m.seq) || !readNumber(value, "t", m.ts)) {
        return fail(ErrorCode::BadFrame, "stored message seq or ts is not a decimal number");
    }
    if (m.room.empty() || m.seq == 0) {
        return fail(ErrorCode::BadFrame, "stored message without room or seq");
    }
    return m;
}

} // namespace parley::protocol::stored
