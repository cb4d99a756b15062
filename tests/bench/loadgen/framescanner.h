// Reads the fields the load generator needs out of a Parley server frame (one JSON object),
// without building a DOM: the receive path handles every delivery of a fanout to 15,000
// members, so it must cost microseconds. It still parses the whole text by the JSON grammar
// (RFC 8259): a frame that is not one valid JSON object is rejected, strings are unescaped
// (\uXXXX and surrogate pairs included), nested values are validated and skipped.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley::bench {

class ScannedFrame {
public:
    enum Field { Type, Id, Room, Epoch, Sender, ClientId, Body, Code, Message, FieldCount };

    std::string_view str(Field f) const { return m_str[f]; }
    bool has(Field f) const { return m_present[f]; }

    bool hasSeq = false;
    std::uint64_t seq = 0;
    bool hasLastSeq = false;
    std::uint64_t lastSeq = 0;
    std::uint64_t heartbeatMs = 0;
    bool duplicate = false;

private:
    friend class FrameScanner;
    void clear();

    std::array<std::string_view, FieldCount> m_str {};
    std::array<bool, FieldCount> m_present {};
    std::array<std::string, FieldCount> m_owned; // unescaped copies, when a string had escapes
};

class FrameScanner {
public:
    //! Scans `json` into `out`. Returns false (and sets error()) if it is not one JSON object or
    //! a known field has the wrong type. `out` may point into `json`: keep it alive while used.
    bool scan(std::string_view json, ScannedFrame& out);
    const char* error() const { return m_error; }

private:
    bool fail(const char* why);
    void skipSpace();
    bool parseString(std::string_view& raw, bool& escaped);
    bool unescape(std::string_view raw, std::string& out);
    bool parseNumber(std::string_view& raw);
    bool skipValue(int depth);
    bool parseLiteral(std::string_view word);

    std::string_view m_text;
    std::size_t m_pos = 0;
    const char* m_error = "";
};

} // namespace parley::bench
