#include "widgets/messageview.h"

#include "models/messagemodel.h"
#include "widgets/messagedelegate.h"

#include <QApplication>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QMenu>
#include <QScrollBar>
#include <algorithm>

namespace parley::desktop {

namespace {
//! Pixels from an edge that still count as "at" that edge.
constexpr int EdgeSlack = 24;
} // namespace

MessageView::MessageView(QWidget* parent)
    : QListView(parent)
    , m_delegate(new MessageDelegate(this))
{
    setItemDelegate(m_delegate);
    setSelectionMode(QAbstractItemView::NoSelection);
    setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    // Row heights depend on the width: a scroll bar that comes and goes would change the width
    // and re-measure every row of a long timeline.
    setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOn);
    setResizeMode(QListView::Adjust);
    setUniformItemSizes(false);
    setMouseTracking(true);
    setFocusPolicy(Qt::NoFocus);
    setFrameShape(QFrame::NoFrame);
    // The space above a short timeline (see updateGeometries()) has the timeline's colour.
    setBackgroundRole(QPalette::Base);
    setAutoFillBackground(true);
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    viewport()->setAttribute(Qt::WA_Hover);
    verticalScrollBar()->setSingleStep(24);
    connect(verticalScrollBar(), &QScrollBar::rangeChanged, this, &MessageView::onRangeChanged);
    connect(verticalScrollBar(), &QScrollBar::valueChanged, this, &MessageView::onScrolled);
}

void MessageView::setModel(QAbstractItemModel* model)
{
    if (QAbstractItemModel* old = this->model()) {
        disconnect(old, &QAbstractItemModel::rowsAboutToBeInserted, this,
            &MessageView::onRowsAboutToBeInserted);
    }
    QListView::setModel(model);
    if (model) {
        connect(model, &QAbstractItemModel::rowsAboutToBeInserted, this,
            &MessageView::onRowsAboutToBeInserted);
    }
    m_keepFromBottom = -1;
    scrollToNewest();
}

void MessageView::scrollToNewest()
{
    m_followBottom = true;
    m_keepFromBottom = -1;
    QScrollBar* bar = verticalScrollBar();
    bar->setValue(bar->maximum());
}

void MessageView::onRowsAboutToBeInserted(const QModelIndex& parent, int first, int last)
{
    Q_UNUSED(parent)
    Q_UNUSED(last)
    if (m_followBottom) {
        return;
    }
    // Rows above the first visible one push the content down: keep what the user reads in place
    // by keeping the distance to the bottom. Rows below it change nothing the user sees.
    const QModelIndex top = indexAt(QPoint(1, 1));
    if (!top.isValid() || first <= top.row()) {
        QScrollBar* bar = verticalScrollBar();
        m_keepFromBottom = bar->maximum() - bar->value();
    }
}

void MessageView::onRangeChanged(int min, int max)
{
    Q_UNUSED(min)
    QScrollBar* bar = verticalScrollBar();
    m_adjusting = true;
    if (m_followBottom) {
        bar->setValue(max);
    } else if (m_keepFromBottom >= 0) {
        bar->setValue(max - m_keepFromBottom);
        m_keepFromBottom = -1;
    }
    m_adjusting = false;
    checkNearTop();
}

void MessageView::onScrolled(int value)
{
    if (m_adjusting) {
        return;
    }
    QScrollBar* bar = verticalScrollBar();
    m_followBottom = value >= bar->maximum() - EdgeSlack;
    // The user moved: the anchor of a pending insertion is stale.
    m_keepFromBottom = -1;
    checkNearTop();
}

void MessageView::checkNearTop()
{
    QScrollBar* bar = verticalScrollBar();
    // Also when everything fits (no scrolling possible): the user can only see more by loading.
    if (model() && bar->value() <= bar->minimum() + viewport()->height() / 2) {
        Q_EMIT olderMessagesWanted();
    }
}

void MessageView::resizeEvent(QResizeEvent* event)
{
    QListView::resizeEvent(event);
    if (m_followBottom) {
        verticalScrollBar()->setValue(verticalScrollBar()->maximum());
    }
}

void MessageView::dataChanged(
    const QModelIndex& topLeft, const QModelIndex& bottomRight, const QList<int>& roles)
{
    QListView::dataChanged(topLeft, bottomRight, roles);
    // A row that changes state (failed: a Retry line appears) or grouping changes height. The
    // relayout reads cached sizes for all other rows.
    scheduleDelayedItemsLayout();
}

void MessageView::updateGeometries()
{
    QListView::updateGeometries();
    // Like every chat: a short timeline sits at the bottom, next to the input, not at the top.
    // The free space above it becomes a viewport margin (the width, and so every cached row
    // height, stays the same).
    const QMargins current = viewportMargins();
    const int available = contentsRect().height();
    const int free = std::max(0, available - contentsSize().height());
    if (free != current.top()) {
        setViewportMargins(0, free, 0, 0);
    }
}

void MessageView::changeEvent(QEvent* event)
{
    if (event->type() == QEvent::FontChange || event->type() == QEvent::PaletteChange
        || event->type() == QEvent::StyleChange) {
        m_delegate->clearCaches();
        scheduleDelayedItemsLayout();
    }
    QListView::changeEvent(event);
}

void MessageView::mouseMoveEvent(QMouseEvent* event)
{
    const QModelIndex index = indexAt(event->position().toPoint());
    QStyleOptionViewItem option;
    initViewItemOption(&option);
    option.rect = visualRect(index);
    const auto hit = m_delegate->hitTest(option, index, event->position().toPoint());
    viewport()->setCursor(
        hit.kind == MessageDelegate::Hit::Kind::None ? Qt::ArrowCursor : Qt::PointingHandCursor);
    if (hit.kind == MessageDelegate::Hit::Kind::Link) {
        viewport()->setToolTip(hit.url.toString());
    } else {
        viewport()->setToolTip(QString());
    }
    QListView::mouseMoveEvent(event);
}

void MessageView::mouseReleaseEvent(QMouseEvent* event)
{
    QListView::mouseReleaseEvent(event);
    if (event->button() != Qt::LeftButton) {
        return;
    }
    const QModelIndex index = indexAt(event->position().toPoint());
    if (!index.isValid()) {
        return;
    }
    QStyleOptionViewItem option;
    initViewItemOption(&option);
    option.rect = visualRect(index);
    const auto hit = m_delegate->hitTest(option, index, event->position().toPoint());
    const QString clientId = index.data(MessageModel::ClientIdRole).toString();
    switch (hit.kind) {
    case MessageDelegate::Hit::Kind::Retry:
        Q_EMIT retryRequested(clientId);
        break;
    case MessageDelegate::Hit::Kind::Discard:
        Q_EMIT discardRequested(clientId);
        break;
    case MessageDelegate::Hit::Kind::Link:
        Q_EMIT linkActivated(hit.url);
        break;
    case MessageDelegate::Hit::Kind::None:
        break;
    }
}

void MessageView::contextMenuEvent(QContextMenuEvent* event)
{
    const QModelIndex index = indexAt(event->pos());
    if (!index.isValid()
        || index.data(MessageModel::KindRole).toInt() != int(TimelineEntry::Kind::Message)) {
        return;
    }
    QStyleOptionViewItem option;
    initViewItemOption(&option);
    option.rect = visualRect(index);
    const auto hit = m_delegate->hitTest(option, index, event->pos());
    QMenu menu(this);
    const QString body = index.data(MessageModel::BodyRole).toString();
    menu.addAction(tr("Copy Text"), this, [body] { QApplication::clipboard()->setText(body); });
    if (hit.kind == MessageDelegate::Hit::Kind::Link) {
        const QString link = hit.url.toString();
        menu.addAction(
            tr("Copy Link Address"), this, [link] { QApplication::clipboard()->setText(link); });
    }
    const auto delivery = TimelineEntry::Delivery(index.data(MessageModel::DeliveryRole).toInt());
    if (delivery == TimelineEntry::Delivery::Failed) {
        const QString clientId = index.data(MessageModel::ClientIdRole).toString();
        menu.addSeparator();
        menu.addAction(tr("Retry"), this, [this, clientId] { Q_EMIT retryRequested(clientId); });
        menu.addAction(
            tr("Discard"), this, [this, clientId] { Q_EMIT discardRequested(clientId); });
    }
    menu.exec(event->globalPos());
}

} // namespace parley::desktop
