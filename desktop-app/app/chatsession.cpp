#include "app/chatsession.h"

#include "controllers/chatcontroller.h"
#include "controllers/connectioncontroller.h"
#include "models/roomlistmodel.h"
#include "widgets/mainwindow.h"

#include <QFileInfo>
#include <QSettings>
#include <parley/client.h>
#include <parley/clientoptions.h>

namespace parley::desktop {

ChatSession::ChatSession(const LaunchOptions& options, QSettings* settings, QObject* parent)
    : QObject(parent)
    , m_options(options)
    , m_settings(settings)
{
    ClientOptions clientOptions = ClientOptions::forServer(options.server, options.user);
    clientOptions.token = options.token;
    // A chat window keeps an unsent message until the user decides: no time limit in the outbox.
    clientOptions.messageTimeout = std::chrono::milliseconds(0);
    // Behind a proxy that breaks WebSocket, the next start begins on the transport that worked
    // (the SDK writes the file off the GUI thread), next to the app's settings file.
    if (settings && QFileInfo(settings->fileName()).isAbsolute()) {
        clientOptions.transportMemoryPath
            = QFileInfo(settings->fileName()).absolutePath() + QStringLiteral("/transports.json");
    }
    m_client = std::make_unique<parley::Client>(clientOptions);
    m_chat = std::make_unique<ChatController>(*m_client);
    m_connection = std::make_unique<ConnectionController>(*m_client);
    m_window = std::make_unique<MainWindow>(*m_chat, *m_connection);

    connect(m_client.get(), &Client::stateChanged, this, [this](ConnectionState state) {
        if (state == ConnectionState::Connected && !m_connectedOnce) {
            m_connectedOnce = true;
            saveSettings();
        }
    });
    RoomListModel* rooms = m_chat->roomList();
    connect(rooms, &QAbstractItemModel::rowsInserted, this, &ChatSession::saveSettings);
    connect(rooms, &QAbstractItemModel::rowsRemoved, this, &ChatSession::saveSettings);
}

ChatSession::~ChatSession()
{
    // The window shows the controllers' models: it goes first.
    m_window.reset();
    m_connection.reset();
    m_chat.reset();
    m_client.reset();
}

void ChatSession::start()
{
    QStringList rooms = m_options.rooms;
    if (rooms.isEmpty()) {
        rooms.append(QStringLiteral("lobby"));
    }
    for (const auto& room : rooms) {
        m_chat->openRoom(room);
    }
    m_chat->setCurrentRoom(rooms.first());
    m_connection->start();
}

void ChatSession::saveSettings()
{
    // Remember only sessions that worked, so a typo in the server address is not kept.
    if (!m_settings || !m_connectedOnce) {
        return;
    }
    LaunchOptions saved = m_options;
    saved.rooms = m_chat->roomList()->rooms();
    saved.save(*m_settings);
}

} // namespace parley::desktop
