"""What a failed check of the cloud's scenario raises."""


class StepFailed(Exception):
    pass


def check(condition, message, *args):
    if not condition:
        raise StepFailed(message % args)
