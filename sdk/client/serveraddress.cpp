#include <QRegularExpression>
#include <optional>
#include <parley/serveraddress.h>

namespace parley {

namespace {

const QString kForms
    = QStringLiteral("use host:port, ws(s)://host:port[/path] or http(s)://host:port");

ServerAddress refused(const QString& why)
{
    ServerAddress address;
    address.error = why;
    return address;
}

} // namespace

QString ServerAddress::defaultPath()
{
    return QStringLiteral("/v1/ws");
}

ServerAddress ServerAddress::parse(const QString& text)
{
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty()) {
        return refused(QStringLiteral("no server address given (%1)").arg(kForms));
    }

    // Without "scheme://", the text is host[:port][/path]. It must not go to QUrl as it is:
    // QUrl reads "localhost:8080" as the scheme "localhost".
    static const QRegularExpression schemeRule(QStringLiteral("^([A-Za-z][A-Za-z0-9+.-]*)://"));
    const QRegularExpressionMatch schemeMatch = schemeRule.match(trimmed);
    QString scheme = QStringLiteral("ws");
    QString rest = trimmed;
    if (schemeMatch.hasMatch()) {
        scheme = schemeMatch.captured(1).toLower();
        rest = trimmed.mid(schemeMatch.capturedLength());
    } else if (trimmed.contains(QLatin1String("://"))) {
        return refused(QStringLiteral("the scheme before :// is not valid (%1)").arg(kForms));
    }
    if (scheme == QLatin1String("http")) {
        scheme = QStringLiteral("ws");
    } else if (scheme == QLatin1String("https")) {
        scheme = QStringLiteral("wss");
    } else if (scheme != QLatin1String("ws") && scheme != QLatin1String("wss")) {
        return refused(
            QStringLiteral("'%1://' is not a Parley server scheme (%2)").arg(scheme, kForms));
    }

    // The authority is checked here rather than left to QUrl, so that each mistake gets its own
    // reason (QUrl's error strings are for developers and quote internals).
    const qsizetype authorityEnd = rest.indexOf(QRegularExpression(QStringLiteral("[/?#]")));
    const QString authority = authorityEnd < 0 ? rest : rest.left(authorityEnd);
    const QString tail = authorityEnd < 0 ? QString() : rest.mid(authorityEnd);
    if (authority.contains(QLatin1Char('@'))) {
        return refused(QStringLiteral(
            "a server address has no user name or password (credentials go in the token)"));
    }
    QString host;
    std::optional<QString> port; // the text after ':', when there is a ':'
    if (authority.startsWith(QLatin1Char('['))) {
        const qsizetype close = authority.indexOf(QLatin1Char(']'));
        if (close < 0) {
            return refused(QStringLiteral("the IPv6 address lacks its closing ']'"));
        }
        host = authority.mid(1, close - 1);
        const QString after = authority.mid(close + 1);
        if (!after.isEmpty() && !after.startsWith(QLatin1Char(':'))) {
            return refused(QStringLiteral("only ':port' may follow an IPv6 address in brackets"));
        }
        if (!after.isEmpty()) {
            port = after.mid(1);
        }
    } else {
        if (authority.count(QLatin1Char(':')) > 1) {
            return refused(QStringLiteral("an IPv6 address goes in brackets, e.g. [::1]:8080"));
        }
        const qsizetype colon = authority.indexOf(QLatin1Char(':'));
        host = colon < 0 ? authority : authority.left(colon);
        if (colon >= 0) {
            port = authority.mid(colon + 1);
        }
    }
    if (host.isEmpty()) {
        return refused(QStringLiteral("no host name (%1)").arg(kForms));
    }
    if (port) {
        static const QRegularExpression digits(QStringLiteral("^[0-9]{1,5}$"));
        const uint number = port->toUInt();
        if (!digits.match(*port).hasMatch() || number < 1 || number > 65535) {
            return refused(QStringLiteral("the port must be a number from 1 to 65535"));
        }
    }
    if (tail.contains(QLatin1Char('#'))) {
        return refused(QStringLiteral("a server address has no #fragment"));
    }

    QUrl url(scheme + QStringLiteral("://") + rest, QUrl::StrictMode);
    if (!url.isValid() || url.host().isEmpty()) {
        return refused(QStringLiteral("'%1' is not a valid host name or address").arg(host));
    }
    if (url.path().isEmpty() || url.path() == QLatin1String("/")) {
        url.setPath(defaultPath());
    }
    ServerAddress address;
    address.url = url;
    return address;
}

QString ServerAddress::hostAndPort() const
{
    if (!isValid()) {
        return {};
    }
    const int port = url.port(url.scheme() == QLatin1String("wss") ? 443 : 80);
    const QString host = url.host();
    return (host.contains(QLatin1Char(':')) ? QStringLiteral("[%1]").arg(host) : host)
        + QLatin1Char(':') + QString::number(port);
}

} // namespace parley
