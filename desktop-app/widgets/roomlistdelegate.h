// RoomListDelegate: one room in the side bar.
#pragma once

#include <QStyledItemDelegate>

namespace parley::desktop {

//! Draws a RoomListModel row: "#name" (bold when unread), an unread badge, and the last message
//! as a one-line preview; a room still joining or refused says so instead of the preview.
class RoomListDelegate : public QStyledItemDelegate {
    Q_OBJECT

public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
        const QModelIndex& index) const override;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

} // namespace parley::desktop
