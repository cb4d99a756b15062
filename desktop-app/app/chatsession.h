// ChatSession: one signed-in session of the app, wired together.
#pragma once

#include "controllers/launchoptions.h"

#include <QObject>
#include <memory>

class QSettings;

namespace parley {
class Client;
}

namespace parley::desktop {

class ChatController;
class ConnectionController;
class MainWindow;

//! Owns the SDK client, the controllers and the main window of one session, wired the same way
//! for the app and for its tests. `settings` (may be null) remembers the session once it has
//! connected, and the rooms the user keeps open.
class ChatSession : public QObject {
    Q_OBJECT

public:
    ChatSession(const LaunchOptions& options, QSettings* settings, QObject* parent = nullptr);
    ~ChatSession() override;

    //! Opens the rooms of the options (or "lobby") and connects.
    void start();

    parley::Client& client() const { return *m_client; }
    ChatController& chat() const { return *m_chat; }
    ConnectionController& connection() const { return *m_connection; }
    MainWindow& window() const { return *m_window; }

private:
    void saveSettings();

    LaunchOptions m_options;
    QSettings* m_settings = nullptr;
    bool m_connectedOnce = false;
    std::unique_ptr<parley::Client> m_client;
    std::unique_ptr<ChatController> m_chat;
    std::unique_ptr<ConnectionController> m_connection;
    std::unique_ptr<MainWindow> m_window;
};

} // namespace parley::desktop
