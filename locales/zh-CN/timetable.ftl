nav-timetable = 课表
