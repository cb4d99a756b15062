// MemberDelegate: one member of a room, with a presence dot.
#pragma once

#include <QStyledItemDelegate>

namespace parley::desktop {

//! Draws a MemberListModel row: a green dot for online members, a hollow grey one for offline
//! members (whose names are dimmed), then the name.
class MemberDelegate : public QStyledItemDelegate {
    Q_OBJECT

public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
        const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

} // namespace parley::desktop
