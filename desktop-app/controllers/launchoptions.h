// LaunchOptions: who signs in where, from the command line and the saved settings.
#pragma once

#include <QString>
#include <QStringList>
#include <QUrl>
#include <optional>

class QCommandLineParser;
class QSettings;

namespace parley::desktop {

//! What the app needs to start a session. Read from the command line (`--server`, `--user`,
//! `--token`, `--room`, or the server address as the one positional argument, which is what the
//! desktop entry's `%u` passes), completed from QSettings, saved back after a successful sign-in.
//! Server addresses go through parley::ServerAddress, the parser the CLI uses too.
struct LaunchOptions {
    QUrl server;
    QString user;
    QString token;
    //! Rooms to open, the first one shown.
    QStringList rooms;

    //! Whether the sign-in dialog can be skipped: a server and a user were given.
    bool isComplete() const { return server.isValid() && !user.isEmpty(); }

    //! Declares --server, --user, --token, --room (repeatable) and the optional positional
    //! server address on `parser`.
    static void addOptions(QCommandLineParser& parser);
    //! Reads the options declared by addOptions() from a parser that has parsed the command
    //! line. On a bad value returns nothing and sets `error`.
    static std::optional<LaunchOptions> fromParser(
        const QCommandLineParser& parser, QString* error);
    //! Parses `arguments` (program name first) with the options of addOptions().
    static std::optional<LaunchOptions> fromArguments(const QStringList& arguments, QString* error);
    //! The last session saved in `settings` (server, user, rooms; the token is not stored).
    static LaunchOptions fromSettings(const QSettings& settings);
    //! Remembers this session in `settings` (not the token: QSettings is plain text).
    void save(QSettings& settings) const;
    //! Fills what the command line left empty from `saved`.
    LaunchOptions completedWith(const LaunchOptions& saved) const;

    //! The server the sign-in dialog proposes when nothing is saved.
    static QUrl defaultServer();
};

} // namespace parley::desktop
