"""A pjsua2 test phone, run as its own process by ``test_pjsua2.py``.

It registers an extension with digest auth, calls a number, records what it hears to a WAV
file for ``--seconds`` after the call is confirmed, hangs up and prints one JSON line with
what happened.  The rules of ``testing.md`` apply: null sound device, no worker threads,
events polled from the thread that created the library, every Call kept in one dict.

    python -m aqualine.telephony.tests.pjsua_phone --port 5062 --user 8001 \
        --password secret --call 96000 --seconds 2 --wav /tmp/heard.wav
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import pjsua2 as pj


class Phone:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.result: dict[str, Any] = {"register": None, "states": [], "media": 0}
        self.calls: dict[int, Any] = {}
        self.recorders: list[Any] = []
        self.endpoint = pj.Endpoint()

    def poll(self, seconds: float, until: Any = None) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.endpoint.libHandleEvents(10)
            if until is not None and until():
                return True
        return until() if until is not None else True

    def start(self) -> None:
        ep = self.endpoint
        ep.libCreate()
        config = pj.EpConfig()
        config.uaConfig.threadCnt = 0
        config.uaConfig.mainThreadOnly = True
        config.logConfig.level = self.args.log_level
        config.logConfig.consoleLevel = self.args.log_level
        config.medConfig.threadCnt = 1
        ep.libInit(config)
        transport = pj.TransportConfig()
        transport.port = 0
        transport.boundAddress = "127.0.0.1"
        kind = pj.PJSIP_TRANSPORT_TCP if self.args.tcp else pj.PJSIP_TRANSPORT_UDP
        ep.transportCreate(kind, transport)
        ep.libStart()
        ep.audDevManager().setNullDev()

    def register(self) -> Any:
        args = self.args
        server = f"127.0.0.1:{args.port}" + (";transport=tcp" if args.tcp else "")
        config = pj.AccountConfig()
        config.idUri = f"sip:{args.user}@127.0.0.1:{args.port}"
        config.regConfig.registrarUri = f"sip:{server}"
        config.regConfig.timeoutSec = 300
        if args.tcp:
            config.sipConfig.proxies.append(f"sip:{server};lr")
        config.sipConfig.authCreds.append(
            pj.AuthCredInfo("digest", "*", args.user, 0, args.password)
        )
        phone = self

        class Account(pj.Account):
            def onRegState(self, prm: Any) -> None:
                phone.result["register"] = prm.code

        account = Account()
        account.create(config)
        self.poll(10, lambda: self.result["register"] is not None)
        return account

    def call(self, account: Any) -> None:
        args = self.args
        phone = self

        class Call(pj.Call):
            def onCallState(self, prm: Any) -> None:
                info = self.getInfo()
                phone.result["states"].append(info.stateText)
                phone.result["last_status"] = info.lastStatusCode
                if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
                    phone.calls.pop(info.id, None)

            def onCallMediaState(self, prm: Any) -> None:
                info = self.getInfo()
                for index, media in enumerate(info.media):
                    if (
                        media.type == pj.PJMEDIA_TYPE_AUDIO
                        and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE
                    ):
                        audio = self.getAudioMedia(index)
                        recorder = pj.AudioMediaRecorder()
                        recorder.createRecorder(args.wav)
                        audio.startTransmit(recorder)
                        phone.recorders.append(recorder)
                        phone.result["media"] += 1

        call = Call(account)
        param = pj.CallOpParam(True)
        call.makeCall(f"sip:{args.call}@127.0.0.1:{args.port}", param)
        self.calls[call.getId()] = call
        confirmed = self.poll(10, lambda: "CONFIRMED" in self.result["states"])
        if confirmed:
            self.poll(args.seconds)
            hangup = pj.CallOpParam()
            call.hangup(hangup)
        self.poll(5, lambda: not self.calls)
        del call

    def stop(self) -> None:
        self.recorders.clear()
        self.calls.clear()
        self.endpoint.libDestroy()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--call", default="")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--wav", default="heard.wav")
    parser.add_argument("--tcp", action="store_true")
    parser.add_argument("--log-level", type=int, default=1)
    args = parser.parse_args(argv)
    phone = Phone(args)
    phone.start()
    try:
        account = phone.register()
        if args.call and phone.result["register"] == 200:
            phone.call(account)
        account.shutdown()
        phone.poll(1)
        del account
    finally:
        phone.stop()
    print(json.dumps(phone.result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
