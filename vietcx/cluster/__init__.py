"""The scaled-out deployment on one machine (`make cluster`): PostgreSQL, Redis, nginx, two Rasa
servers, two action servers and the staff console, every one on 127.0.0.1.

`services` runs the three Debian daemons as private instances under a folder of the project;
`launcher` starts and supervises the whole set with the same settings a shop gives the same
processes on separate machines (README, "Scaling out").
"""
