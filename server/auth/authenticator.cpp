#include "authenticator.h"

#include "common/constanttime.h"
#include "protocol/codec.h"

#include <QFile>

namespace parley::server {

Authenticator Authenticator::devMode()
{
    Authenticator auth;
    auth.m_devMode = true;
    return auth;
}

std::optional<Authenticator> Authenticator::fromFile(const QString& path, QString* error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read auth file %1: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    const QByteArray text = file.readAll();
    return fromText(std::string_view(text.constData(), std::size_t(text.size())), error);
}

std::optional<Authenticator> Authenticator::fromText(std::string_view text, QString* error)
{
    Authenticator auth;
    int lineNumber = 0;
    while (!text.empty()) {
        ++lineNumber;
        const auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
        while (!line.empty() && isSpace(line.front())) {
            line.remove_prefix(1);
        }
        while (!line.empty() && isSpace(line.back())) {
            line.remove_suffix(1);
        }
        if (line.empty() || line.front() == '#') {
            continue;
        }
        std::size_t split = 0;
        while (split < line.size() && !isSpace(line[split])) {
            ++split;
        }
        const std::string_view user = line.substr(0, split);
        std::string_view token = line.substr(split);
        while (!token.empty() && isSpace(token.front())) {
            token.remove_prefix(1);
        }
        if (!protocol::isValidUserName(user) || token.empty()
            || token.find_first_of(" \t") != std::string_view::npos) {
            *error = QStringLiteral("auth file line %1: want 'user token'").arg(lineNumber);
            return std::nullopt;
        }
        auth.m_tokens[std::string(user)] = std::string(token);
    }
    return auth;
}

bool Authenticator::constantTimeEquals(std::string_view a, std::string_view b)
{
    return server::constantTimeEquals(a, b);
}

bool Authenticator::check(std::string_view user, std::string_view token) const
{
    if (!protocol::isValidUserName(user)) {
        return false;
    }
    if (m_devMode) {
        return true;
    }
    const auto it = m_tokens.find(std::string(user));
    // Compare against a dummy for unknown users so the time does not depend on the token bytes
    // either way (it still reveals nothing but lengths).
    static const std::string dummy(32, '\0');
    const bool match = constantTimeEquals(it == m_tokens.end() ? dummy : it->second, token);
    return it != m_tokens.end() && match;
}

} // namespace parley::server
