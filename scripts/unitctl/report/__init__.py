"""Reports of the evaluation: JSON, JUnit and the council's HTML page."""
