// JSON nesting, checked before parsing: deeper input than any valid frame or envelope needs is
// refused, so hostile input such as 60,000 '[' cannot make nlohmann's parser, dump() or the
// DOM's destructor recurse deeply. Internal to parley_protocol.
#pragma once

#include <string_view>

namespace parley::protocol::detail {

//! The deepest a frame may nest (a frame's own objects and arrays).
constexpr int kMaxFrameNesting = 16;
//! An envelope holds frames two levels down at most (`{"events":[frame]}`).
constexpr int kMaxEnvelopeNesting = kMaxFrameNesting + 2;

//! Whether `bytes` never opens more than `maxDepth` objects or arrays at once (strings and their
//! escapes are skipped; unbalanced input is the parser's to refuse).
inline bool nestingWithin(std::string_view bytes, int maxDepth)
{
    int depth = 0;
    bool inString = false;
    bool escaped = false;
    for (const char c : bytes) {
        if (inString) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                inString = false;
            }
            continue;
        }
        if (c == '"') {
            inString = true;
        } else if (c == '{' || c == '[') {
            if (++depth > maxDepth) {
                return false;
            }
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return true;
}

} // namespace parley::protocol::detail
