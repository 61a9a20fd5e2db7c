nav-timetable = Timetable
