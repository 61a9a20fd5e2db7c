nav-homework = 作业
nav-questions = 答疑
nav-homework-load = 作业负担
