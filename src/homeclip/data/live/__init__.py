"""Live events: sources that follow a home as it happens, and the rules that turn their messages into the
windows offline code would cut from the same events (docs/live.md).

  events.py    LiveEvent / Arrival (what every source delivers) and the live clock (event times -> local time)
  sources.py   the source registry: a URL -> a source (`open_source`); the sources' shared reconnect backoff
  tail.py      a growing CASAS-style log file, followed across rotation and truncation
  payloads.py  MQTT topic patterns and payload mappings (Zigbee2MQTT JSON, plain ON/OFF, event JSON)
  mqtt.py      MQTT through paho-mqtt: QoS 1, persistent session, reconnect with backoff
  hass.py      Home Assistant's WebSocket API: auth with a long-lived token, state_changed events
  stream.py    the ordering rule: hold, dedupe by (sensor, state, time), late events counted and dropped
  windower.py  the last N events of a home -> each new fixed-length window, through data/windows.py
"""
