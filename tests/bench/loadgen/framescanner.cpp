#include "framescanner.h"

#include <charconv>

namespace parley::bench {

namespace {

constexpr int kMaxDepth = 32;

struct KeyField {
    std::string_view key;
    ScannedFrame::Field field;
};

constexpr KeyField kStringKeys[] = {
    { "type", ScannedFrame::Type },
    { "id", ScannedFrame::Id },
    { "room", ScannedFrame::Room },
    { "epoch", ScannedFrame::Epoch },
    { "sender", ScannedFrame::Sender },
    { "client_id", ScannedFrame::ClientId },
    { "body", ScannedFrame::Body },
    { "code", ScannedFrame::Code },
    { "message", ScannedFrame::Message },
};

void appendUtf8(std::string& out, std::uint32_t cp)
{
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

bool hex4(std::string_view s, std::size_t at, std::uint32_t& v)
{
    if (at + 4 > s.size()) {
        return false;
    }
    v = 0;
    for (std::size_t i = at; i < at + 4; ++i) {
        const char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') {
            v |= static_cast<std::uint32_t>(c - '0');
        } else if (c >= 'a' && c <= 'f') {
            v |= static_cast<std::uint32_t>(c - 'a' + 10);
        } else if (c >= 'A' && c <= 'F') {
            v |= static_cast<std::uint32_t>(c - 'A' + 10);
        } else {
            return false;
        }
    }
    return true;
}

} // namespace

void ScannedFrame::clear()
{
    m_str.fill({});
    m_present.fill(false);
    hasSeq = false;
    seq = 0;
    hasLastSeq = false;
    lastSeq = 0;
    heartbeatMs = 0;
    duplicate = false;
}

bool FrameScanner::fail(const char* why)
{
    m_error = why;
    return false;
}

void FrameScanner::skipSpace()
{
    while (m_pos < m_text.size()) {
        const char c = m_text[m_pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            return;
        }
        ++m_pos;
    }
}

bool FrameScanner::parseString(std::string_view& raw, bool& escaped)
{
    // m_text[m_pos] is the opening quote.
    ++m_pos;
    const std::size_t start = m_pos;
    escaped = false;
    while (m_pos < m_text.size()) {
        const auto c = static_cast<unsigned char>(m_text[m_pos]);
        if (c == '"') {
            raw = m_text.substr(start, m_pos - start);
            ++m_pos;
            return true;
        }
        if (c < 0x20) {
            return fail("control character in string");
        }
        if (c == '\\') {
            escaped = true;
            ++m_pos;
            if (m_pos >= m_text.size()) {
                break;
            }
            const char e = m_text[m_pos];
            if (e == 'u') {
                std::uint32_t v = 0;
                if (!hex4(m_text, m_pos + 1, v)) {
                    return fail("bad \\u escape");
                }
                m_pos += 4;
            } else if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n'
                && e != 'r' && e != 't') {
                return fail("bad escape");
            }
        }
        ++m_pos;
    }
    return fail("unterminated string");
}

bool FrameScanner::unescape(std::string_view raw, std::string& out)
{
    out.clear();
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (c != '\\') {
            out.push_back(c);
            continue;
        }
        const char e = raw[++i];
        switch (e) {
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
            std::uint32_t cp = 0;
            hex4(raw, i + 1, cp);
            i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                std::uint32_t low = 0;
                if (i + 6 < raw.size() && raw[i + 1] == '\\' && raw[i + 2] == 'u'
                    && hex4(raw, i + 3, low) && low >= 0xDC00 && low <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    i += 6;
                } else {
                    return fail("lone surrogate");
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return fail("lone surrogate");
            }
            appendUtf8(out, cp);
            break;
        }
        default: out.push_back(e); break; // " \ /
        }
    }
    return true;
}

bool FrameScanner::parseNumber(std::string_view& raw)
{
    const std::size_t start = m_pos;
    auto digits = [&] {
        const std::size_t from = m_pos;
        while (m_pos < m_text.size() && m_text[m_pos] >= '0' && m_text[m_pos] <= '9') {
            ++m_pos;
        }
        return m_pos - from;
    };
    if (m_pos < m_text.size() && m_text[m_pos] == '-') {
        ++m_pos;
    }
    if (m_pos < m_text.size() && m_text[m_pos] == '0') {
        ++m_pos;
    } else if (digits() == 0) {
        return fail("bad number");
    }
    if (m_pos < m_text.size() && m_text[m_pos] == '.') {
        ++m_pos;
        if (digits() == 0) {
            return fail("bad number");
        }
    }
    if (m_pos < m_text.size() && (m_text[m_pos] == 'e' || m_text[m_pos] == 'E')) {
        ++m_pos;
        if (m_pos < m_text.size() && (m_text[m_pos] == '+' || m_text[m_pos] == '-')) {
            ++m_pos;
        }
        if (digits() == 0) {
            return fail("bad number");
        }
    }
    raw = m_text.substr(start, m_pos - start);
    return true;
}

bool FrameScanner::parseLiteral(std::string_view word)
{
    if (m_text.substr(m_pos, word.size()) != word) {
        return fail("bad literal");
    }
    m_pos += word.size();
    return true;
}

bool FrameScanner::skipValue(int depth)
{
    if (depth > kMaxDepth) {
        return fail("nested too deep");
    }
    skipSpace();
    if (m_pos >= m_text.size()) {
        return fail("value expected");
    }
    const char c = m_text[m_pos];
    if (c == '"') {
        std::string_view raw;
        bool escaped = false;
        return parseString(raw, escaped);
    }
    if (c == '{' || c == '[') {
        const char close = c == '{' ? '}' : ']';
        ++m_pos;
        skipSpace();
        if (m_pos < m_text.size() && m_text[m_pos] == close) {
            ++m_pos;
            return true;
        }
        for (;;) {
            if (c == '{') {
                skipSpace();
                if (m_pos >= m_text.size() || m_text[m_pos] != '"') {
                    return fail("key expected");
                }
                std::string_view key;
                bool escaped = false;
                if (!parseString(key, escaped)) {
                    return false;
                }
                skipSpace();
                if (m_pos >= m_text.size() || m_text[m_pos] != ':') {
                    return fail("':' expected");
                }
                ++m_pos;
            }
            if (!skipValue(depth + 1)) {
                return false;
            }
            skipSpace();
            if (m_pos < m_text.size() && m_text[m_pos] == ',') {
                ++m_pos;
                continue;
            }
            if (m_pos < m_text.size() && m_text[m_pos] == close) {
                ++m_pos;
                return true;
            }
            return fail("',' or end expected");
        }
    }
    if (c == 't') {
        return parseLiteral("true");
    }
    if (c == 'f') {
        return parseLiteral("false");
    }
    if (c == 'n') {
        return parseLiteral("null");
    }
    std::string_view raw;
    return parseNumber(raw);
}

bool FrameScanner::scan(std::string_view json, ScannedFrame& out)
{
    out.clear();
    m_text = json;
    m_pos = 0;
    m_error = "";
    skipSpace();
    if (m_pos >= m_text.size() || m_text[m_pos] != '{') {
        return fail("not a JSON object");
    }
    ++m_pos;
    skipSpace();
    bool first = true;
    for (;;) {
        skipSpace();
        if (m_pos >= m_text.size()) {
            return fail("unterminated object");
        }
        if (m_text[m_pos] == '}' && first) {
            ++m_pos;
            break;
        }
        if (m_text[m_pos] != '"') {
            return fail("key expected");
        }
        std::string_view key;
        bool keyEscaped = false;
        if (!parseString(key, keyEscaped)) {
            return false;
        }
        skipSpace();
        if (m_pos >= m_text.size() || m_text[m_pos] != ':') {
            return fail("':' expected");
        }
        ++m_pos;
        skipSpace();
        if (m_pos >= m_text.size()) {
            return fail("value expected");
        }
        bool handled = false;
        if (!keyEscaped) {
            for (const auto& kf : kStringKeys) {
                if (kf.key != key) {
                    continue;
                }
                if (m_text[m_pos] != '"') {
                    // "message" is a string in error frames only; elsewhere a field of that
                    // name would be unexpected but harmless, so type errors are reported
                    // by the caller that needs the field.
                    break;
                }
                std::string_view raw;
                bool escaped = false;
                if (!parseString(raw, escaped)) {
                    return false;
                }
                if (escaped) {
                    if (!unescape(raw, out.m_owned[kf.field])) {
                        return false;
                    }
                    out.m_str[kf.field] = out.m_owned[kf.field];
                } else {
                    out.m_str[kf.field] = raw;
                }
                out.m_present[kf.field] = true;
                handled = true;
                break;
            }
            if (!handled && (key == "seq" || key == "last_seq" || key == "heartbeat_ms")) {
                std::string_view raw;
                if (!parseNumber(raw)) {
                    return false;
                }
                std::uint64_t v = 0;
                const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), v);
                if (ec != std::errc() || end != raw.data() + raw.size()) {
                    return fail("seq, last_seq and heartbeat_ms must be unsigned integers");
                }
                if (key == "seq") {
                    out.seq = v;
                    out.hasSeq = true;
                } else if (key == "last_seq") {
                    out.lastSeq = v;
                    out.hasLastSeq = true;
                } else {
                    out.heartbeatMs = v;
                }
                handled = true;
            } else if (!handled && key == "duplicate") {
                if (m_text[m_pos] == 't') {
                    out.duplicate = true;
                    handled = parseLiteral("true");
                } else {
                    handled = parseLiteral("false");
                }
                if (!handled) {
                    return false;
                }
            }
        }
        if (!handled && !skipValue(0)) {
            return false;
        }
        first = false;
        skipSpace();
        if (m_pos < m_text.size() && m_text[m_pos] == ',') {
            ++m_pos;
            continue;
        }
        if (m_pos < m_text.size() && m_text[m_pos] == '}') {
            ++m_pos;
            break;
        }
        return fail("',' or '}' expected");
    }
    skipSpace();
    if (m_pos != m_text.size()) {
        return fail("trailing bytes after the object");
    }
    if (!out.has(ScannedFrame::Type)) {
        return fail("no \"type\"");
    }
    return true;
}

} // namespace parley::bench
