"""Self-check quizzes: question types, pure grading, sessions and the review queue."""
