"""The big-screen wallboard (大屏监控, B7): live call-centre and work-order figures for a TV."""
