// Authenticator: decides whether a `hello` (user, token) may open a session.
//
// Two modes: development (any valid user name, token ignored) and a static token file with
// lines "user token" ('#' starts a comment). Tokens are compared in constant time (time depends
// on the lengths only, not on where the bytes differ). Immutable after construction, so every I/O
// thread may call check() concurrently.
#pragma once

#include <QString>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace parley::server {

class Authenticator {
public:
    //! Accepts any user name (the codec has already checked its syntax).
    static Authenticator devMode();
    //! Reads a token file; nullopt and `error` set when it cannot be read or has a bad line.
    static std::optional<Authenticator> fromFile(const QString& path, QString* error);
    //! Same, from the file's text (for tests).
    static std::optional<Authenticator> fromText(std::string_view text, QString* error);

    bool check(std::string_view user, std::string_view token) const;
    bool isDevMode() const { return m_devMode; }
    std::size_t userCount() const { return m_tokens.size(); }

    //! Constant-time equality for secrets (common/constanttime.h; exposed for tests).
    static bool constantTimeEquals(std::string_view a, std::string_view b);

private:
    Authenticator() = default;
    bool m_devMode = false;
    std::unordered_map<std::string, std::string> m_tokens;
};

} // namespace parley::server
