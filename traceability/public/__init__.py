"""The consumer pages behind QR codes, the health check and the language switch."""
