"""rules/support"""
