import os

from inductive import quiet


def test_tensorflow_notices_are_dropped_and_everything_else_passed_on(capfd, monkeypatch):
    monkeypatch.delenv(quiet.ASK, raising=False)
    with quiet.start_up_lines():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n")
        os.write(2, b"I0000 00:00:1796 123 port.cc:153] oneDNN custom operations are on.\n")
        os.write(2, b"a real problem in transport.cc:12\n")
        os.write(2, b"F0000 00:00:1796 123 cpu_feature_guard.cc:50] The TensorFlow library was compiled to use AVX\n")
    assert capfd.readouterr().err == ("a real problem in transport.cc:12\n"
                                      "F0000 00:00:1796 123 cpu_feature_guard.cc:50] The TensorFlow library was "
                                      "compiled to use AVX\n")


def test_asking_for_the_logs_passes_every_line(capfd, monkeypatch):
    monkeypatch.setenv(quiet.ASK, "1")
    with quiet.start_up_lines():
        os.write(2, b"I0000 00:00:1796 123 port.cc:153] oneDNN custom operations are on.\n")
    assert "port.cc" in capfd.readouterr().err
