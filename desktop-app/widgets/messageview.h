// MessageView: the scrolling timeline of the current room.
#pragma once

#include <QListView>
#include <QUrl>

namespace parley::desktop {

class MessageDelegate;

//! A QListView over a MessageModel, drawn by MessageDelegate, with the scrolling behaviour of a
//! chat: it follows new messages while the user is at the bottom, keeps the user's place when
//! older messages are inserted above or new ones arrive while reading back, and asks for older
//! history when the user scrolls near the top.
class MessageView : public QListView {
    Q_OBJECT

public:
    explicit MessageView(QWidget* parent = nullptr);

    void setModel(QAbstractItemModel* model) override;
    MessageDelegate* messageDelegate() const { return m_delegate; }

    //! Whether the view shows the newest message (and keeps following new ones).
    bool isAtBottom() const { return m_followBottom; }
    //! Jumps to the newest message and follows new ones again.
    void scrollToNewest();

Q_SIGNALS:
    //! The user scrolled close to the oldest message shown: time to load older ones.
    void olderMessagesWanted();
    //! Retry was clicked under the failed message `clientId`.
    void retryRequested(const QString& clientId);
    //! Discard was clicked under the failed message `clientId`.
    void discardRequested(const QString& clientId);
    //! A link in a message was clicked.
    void linkActivated(const QUrl& url);

protected:
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void contextMenuEvent(QContextMenuEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void dataChanged(const QModelIndex& topLeft, const QModelIndex& bottomRight,
        const QList<int>& roles = QList<int>()) override;
    void changeEvent(QEvent* event) override;
    void updateGeometries() override;

private:
    void onRowsAboutToBeInserted(const QModelIndex& parent, int first, int last);
    void onRangeChanged(int min, int max);
    void onScrolled(int value);
    void checkNearTop();

    MessageDelegate* m_delegate = nullptr;
    //! Stay at the bottom through layout changes.
    bool m_followBottom = true;
    //! While set, the next range change keeps this distance from the bottom (rows went in above
    //! the visible ones).
    int m_keepFromBottom = -1;
    bool m_adjusting = false;
};

} // namespace parley::desktop
