nav-homework = Homework
nav-questions = Questions
nav-homework-load = Homework load
