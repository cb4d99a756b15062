// FaultProxy: a TCP proxy between tests and a real parleyd that injects network faults on demand.
//
// The test steers it between steps (all calls on the thread that owns it, no background threads):
// - PassThrough: bytes flow both ways (after the configured latency).
// - cutAll(): every open connection is aborted (RST) on both sides, as when a link drops.
// - Refuse: new connections are accepted and reset at once (the client sees a failed connect);
//   existing connections carry on.
// - BlackHole: connections (open and new) stay open but nothing is forwarded either way, and the
//   bytes are discarded: a half-open TCP path (cable pulled, NAT entry gone). Leaving BlackHole
//   aborts the black-holed connections, since their byte streams lost data and cannot resume.
// - setLatency(ms): every chunk is delayed by ms (order kept per direction).
// - setRefuseUpgrades(true): a new connection whose first request asks for a WebSocket upgrade
//   is answered 403 and closed, as by a proxy that does not let WebSocket through; other HTTP
//   requests pass. Connections already upgraded carry on.
// - setCutStreamsAfter(n): a response to a request that asks for an event stream
//   (Accept: text/event-stream) is cut (RST) after n bytes of it, as by a proxy that buffers or
//   kills long-lived responses; n < 0 turns it off.
// When the server closes a connection, what it sent last is still delivered (delayed chunks
// included) before the client side is closed gracefully: HTTP responses ending in a close lose
// nothing in the proxy.
#pragma once

#include <QElapsedTimer>
#include <QHostAddress>
#include <QObject>
#include <QTcpServer>
#include <list>
#include <memory>

class QTcpSocket;

namespace parley::test {

class FaultProxy : public QObject {
    Q_OBJECT

public:
    enum class Mode { PassThrough, Refuse, BlackHole };

    //! Forwards to `targetHost`:`targetPort`.
    FaultProxy(QHostAddress targetHost, quint16 targetPort, QObject* parent = nullptr);
    ~FaultProxy() override;

    //! Listens on 127.0.0.1 at an OS-chosen port (or `port`). False when that fails.
    bool listen(quint16 port = 0);
    quint16 port() const;
    //! ws://127.0.0.1:PORT/v1/ws through the proxy.
    QString webSocketUrl() const;

    //! Where new connections go (e.g. after the server restarted on another port).
    void setTarget(QHostAddress host, quint16 port);

    void setMode(Mode mode);
    Mode mode() const { return m_mode; }
    //! Aborts every open connection (both sides). Returns how many were cut.
    int cutAll();
    //! Delay added to each forwarded chunk.
    void setLatency(int ms) { m_latencyMs = ms; }
    //! Answers new WebSocket upgrade requests with 403 (see above).
    void setRefuseUpgrades(bool refuse) { m_refuseUpgrades = refuse; }
    //! Cuts event-stream responses after `bytes` bytes; negative: never (see above).
    void setCutStreamsAfter(int bytes) { m_cutStreamsAfter = bytes; }
    //! Upgrade requests refused and streams cut so far.
    int refusedUpgrades() const { return m_refusedUpgrades; }
    int cutStreams() const { return m_cutStreams; }

    //! Client connections open right now.
    int openConnections() const { return int(m_links.size()); }
    //! Client connections accepted since construction (refused ones included).
    int acceptedConnections() const { return m_accepted; }

Q_SIGNALS:
    //! A client connection was accepted (whatever the mode).
    void connectionAccepted();
    //! A client connection ended (cut, closed by either side, refused).
    void connectionClosed();

private:
    struct Link;
    void onNewConnection();
    void forward(Link* link, QTcpSocket* from, QTcpSocket* to, bool toUpstream);
    void deliver(Link* link, QTcpSocket* to, const QByteArray& bytes, bool toUpstream);
    void drain(Link* link, bool toUpstream);
    void closeLink(Link* link);
    //! The server closed: flush what it sent, then close the client side gracefully.
    void upstreamFinished(Link* link);
    void closeGracefully(Link* link);
    //! Looks at client bytes for the fault modes; false when the link was closed for it.
    bool inspectRequest(Link* link, const QByteArray& bytes);

    QTcpServer m_server;
    QElapsedTimer m_clock;
    QHostAddress m_targetHost;
    quint16 m_targetPort;
    Mode m_mode = Mode::PassThrough;
    int m_latencyMs = 0;
    int m_accepted = 0;
    bool m_refuseUpgrades = false;
    int m_cutStreamsAfter = -1;
    int m_refusedUpgrades = 0;
    int m_cutStreams = 0;
    std::list<std::unique_ptr<Link>> m_links;
};

} // namespace parley::test
