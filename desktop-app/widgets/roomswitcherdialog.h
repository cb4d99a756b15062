// RoomSwitcherDialog: Ctrl+K, type a room name, Enter.
#pragma once

#include <QDialog>

class QLineEdit;
class QListView;
class QSortFilterProxyModel;

namespace parley::desktop {

class RoomListModel;

//! A quick switcher over the open rooms: typing filters the list, Up/Down pick, Enter goes to the
//! picked room, or opens (joins or creates) the typed name when nothing matches.
class RoomSwitcherDialog : public QDialog {
    Q_OBJECT

public:
    explicit RoomSwitcherDialog(RoomListModel* rooms, QWidget* parent = nullptr);

    //! The room Enter would go to now.
    QString chosenRoom() const;
    QLineEdit* filterEdit() const { return m_filter; }

    //! Goes to chosenRoom() (emits roomChosen()) and closes; stays open when nothing is typed.
    void accept() override;

Q_SIGNALS:
    //! The user picked `room` (maybe a new one).
    void roomChosen(const QString& room);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void onFilterChanged(const QString& text);

    QLineEdit* m_filter = nullptr;
    QListView* m_list = nullptr;
    QSortFilterProxyModel* m_proxy = nullptr;
};

} // namespace parley::desktop
