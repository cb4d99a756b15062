// MessageDelegate: paints one timeline row (message, day separator, gap notice).
#pragma once

#include <QCache>
#include <QStyledItemDelegate>
#include <QTextDocument>
#include <QUrl>
#include <memory>

namespace parley::desktop {

//! Draws MessageModel rows the way chat apps do: an avatar and a "sender · time" header for the
//! first message of a group, the text wrapped to the view's width with clickable links, a day
//! separator above the first message of each day, a "sending…"/"✓" mark for own messages, and
//! "Not sent · Retry · Discard" under a failed one.
//!
//! Size hints are cached per row content and width (MessageModel::CacheKeyRole), so adding a
//! message to a long timeline lays out that message only: the view's relayout reads cached
//! sizes for every other row. The key never names a row of another model, so one delegate (and
//! its caches) serves every room the view switches to, and switching back lays nothing out
//! again.
class MessageDelegate : public QStyledItemDelegate {
    Q_OBJECT

public:
    //! What is under a point of a row.
    struct Hit {
        enum class Kind { None, Link, Retry, Discard };
        Kind kind = Kind::None;
        QUrl url; //!< Link only
    };

    explicit MessageDelegate(QObject* parent = nullptr);
    ~MessageDelegate() override;

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
        const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

    //! What lies at `pos` (viewport coordinates) in the row `index` drawn in `option.rect`.
    Hit hitTest(const QStyleOptionViewItem& option, const QModelIndex& index, QPoint pos) const;

    //! How many rows had their text laid out to compute a size (cache misses), for tests and
    //! diagnostics.
    int layoutCount() const { return m_layoutCount; }
    //! Forgets cached sizes and documents (after a font or palette change).
    void clearCaches();

    //! Finds the links in `text`: (start, length, url) for every http(s):// or www. address.
    struct LinkSpan {
        int start = 0;
        int length = 0;
        QUrl url;
    };
    static QList<LinkSpan> findLinks(const QString& text);

private:
    struct Layout;
    Layout layoutFor(const QStyleOptionViewItem& option, const QModelIndex& index) const;
    QTextDocument* documentFor(
        const QStyleOptionViewItem& option, const QModelIndex& index, int width) const;

    mutable QCache<QString, QTextDocument> m_documents;
    mutable QCache<QString, int> m_heights;
    mutable int m_layoutCount = 0;
};

} // namespace parley::desktop
