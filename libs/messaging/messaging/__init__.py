"""paybus messaging: the one AMQP layer every service uses."""
