"""DJI Cloud API bridge: docks and Pilot 2 remote controllers over MQTT (issue 14).

``protocol`` and ``state`` are pure (message models, merging); ``bridge`` is the MQTT adapter;
``broker`` renders the Mosquitto password file and ACL; ``sim`` is ``waterguard dock-sim``,
``sim_pilot`` ``waterguard pilot-sim``.
"""
