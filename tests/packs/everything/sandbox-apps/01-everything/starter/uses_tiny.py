import time

import tinypkg

print("tiny", tinypkg.VERSION, flush=True)
time.sleep(30)
