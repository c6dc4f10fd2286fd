"""The staff console: the queue of escalations, each conversation's transcript, take / reply / resolve.

A small Flask app served by waitress on 127.0.0.1 (`python -m vietcx.console`); `create_app` in
`vietcx.console.app` builds it.
"""
